// The pillar schema: the one source of the TypeScript types (Static), the runtime
// check, and pillar/pillar.schema.json (written by the pillar:schema task).
import { Type, type Static } from '@sinclair/typebox';
import {
  AbsolutePath, BuildString, Domain, Gid, GitRef, GitRemote, GoPath, HostAddress, HttpUrl,
  ImageName, ImageRef, ListenAddress, ModuleSpecifier, PathName, PemSource, Port, ProcessName, RecipeName,
  PrivatePemSource, RepoName, RoutePrefix, SafeText, Secret, TagName, UnixName, strictObject, typedRecord,
} from './types.ts';

/** A container image: built offline from a recipe under container/, or a pinned reference. */
export const ImageSource = Type.Union([
  strictObject({ recipe: RecipeName }),
  strictObject({ image: ImageRef }),
]);

export const BinarySchema = strictObject({
  enabled: Type.Optional(Type.Boolean({ description: 'false: neither built nor installed' })),
  path: Type.Optional(AbsolutePath),
  source: strictObject({
    git: GitRemote,
    ref: GitRef,
    mirror: Type.Optional(Type.Union([Type.Null(), GitRemote], { description: 'tried before git (air-gapped builds)' })),
  }),
  build: strictObject({
    builder: ImageSource,
    gopath: Type.Optional(Type.Union([Type.Null(), GoPath], { description: 'import path of a legacy GOPATH project; null: a Go module (a 3.x registry pin sets null over the 2.x default)' })),
    dir: Type.Optional(GoPath),
    package: GoPath,
    ldflags: Type.Optional(BuildString),
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.]+$', title: 'Go build tag (letters, digits, _ and .)' }))),
  }),
});

const AclEntry = strictObject({
  match: typedRecord(Type.String({ pattern: '^[a-z]+$', title: 'match field name (lowercase letters)' }), SafeText),
  actions: Type.Array(SafeText),
  comment: Type.Optional(SafeText),
});

export const PillarSchema = strictObject(
  {
    project: ProcessName,
    user: UnixName,
    group: UnixName,
    domain: Domain,
    server_aliases: Type.Array(Domain),
    data_root: AbsolutePath,
    ports: strictObject({ http: Port, https: Port }),
    tls: strictObject({ cert: PemSource, key: PrivatePemSource }),
    force_ssl: Type.Boolean(),
    auth: strictObject({
      mode: Type.Union([Type.Literal('token'), Type.Literal('htpasswd')]),
      token: strictObject({
        issuer: SafeText,
        service: SafeText,
        realm: HttpUrl,
        expiration: Type.Integer({ minimum: 60, maximum: 86400 }),
      }),
    }),
    users: typedRecord(UnixName, strictObject({ password: Secret })),
    acl: Type.Array(AclEntry),
    registry: strictObject({
      host: HostAddress,
      port: Port,
      debug_addr: ListenAddress,
      log_level: Type.Union(['error', 'warn', 'info', 'debug'].map((l) => Type.Literal(l))),
      purging: Type.Boolean(),
      images: AbsolutePath,
      redis: Type.Boolean(),
      http_secret: Secret,
    }),
    auth_server: strictObject({ host: HostAddress, port: Port, route: RoutePrefix }),
    redis: strictObject({
      host: HostAddress,
      port: Port,
      password: Secret,
      maxmemory: Type.String({ pattern: '^[0-9]+(?:[kKmMgG][bB]?)?$', title: 'redis memory size (256mb)' }),
      persistence: Type.Boolean({ description: 'false: a pure cache, nothing written to disk' }),
    }),
    sshd: strictObject({ host: HostAddress, port: Port }),
    binaries: typedRecord(ProcessName, BinarySchema),
    package: strictObject({
      dir: PathName,
      xz_level: Type.Integer({ minimum: 0, maximum: 9 }),
      xz_extreme: Type.Boolean(),
    }),
    publish: strictObject({
      target: Type.Union([Type.Literal('local'), Type.Literal('github')]),
      local: strictObject({ dir: PathName }),
      github: strictObject({
        repo: RepoName,
        tag: TagName,
        base_url: Type.Union([Type.Null(), HttpUrl]),
      }),
    }),
    engine: Type.String({ pattern: '^[A-Za-z0-9/._-]+$', title: 'container engine command (docker, podman, or a path)' }),
    supervisor: Type.Union([Type.Literal('supervisord'), Type.Literal('circus')]),
    editor: strictObject({ group: UnixName, gid: Gid }),
    image: strictObject({
      name: ImageName, dev_tag: TagName, base: ImageSource,
      run: strictObject({
        data: Type.Union([AbsolutePath, ProcessName], { description: 'image:run: a host folder (absolute path) or a named volume for {data_root}' }),
        network: Type.Union([Type.Literal('host'), Type.Literal('publish')], { description: 'image:run: --network host, or publish ports.http/https with -p' }),
        restart: Type.Union([Type.Literal('no'), Type.Literal('on-failure'), Type.Literal('always'), Type.Literal('unless-stopped')]),
      }),
    }),
    plugins: Type.Array(ModuleSpecifier),
    plugins_config: typedRecord(ProcessName, Type.Record(Type.String(), Type.Unknown())),
  },
  {
    $id: 'https://corpus-kit.dev/pillar.schema.json',
    title: 'corpus-kit pillar',
    description: 'Configuration of a corpus-kit build and its supervised stack',
  },
);

export type Pillar = Static<typeof PillarSchema>;
export type BinaryConfig = Static<typeof BinarySchema>;
export type ImageSourceConfig = Static<typeof ImageSource>;
