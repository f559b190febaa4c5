// The stack model: what every plugin registered, frozen with the pillar and the
// secrets into one typed value. Every renderer reads this model (never the
// context), and the launcher can read it too: one model, several renderers.
import { join } from 'node:path';
import semver from 'semver';
import type { Pillar } from '../pillar/schema.ts';
import type { FileSpec, ProcessSpec, RouteSpec } from './api.ts';
import type { Owned, PluginRegistry } from './host.ts';

export interface StackPaths {
  data: string;
  /** The installed configuration (a renderer names files by their installed path). */
  etc: string;
  log: string;
  run: string;
  ca: string;
  /** Private files the supervisor's wrapper reads for processes (secret_env, secret_stdin): root's only. */
  processSecrets: string;
  ssh: string;
  images: string;
}

export interface StackSecrets {
  /** Password of each pillar user (never written anywhere as such: hashed). */
  users: Readonly<Record<string, string>>;
  redisPassword: string;
  httpSecret: string;
}

export interface TokenSettings {
  issuer: string;
  service: string;
  realm: string;
  /** The token-signing certificate: docker_auth signs with its key, the registry trusts it as rootcertbundle. */
  certificate: string;
  key: string;
}

export interface Stack {
  readonly pillar: Pillar;
  readonly paths: StackPaths;
  /** By priority, then name. */
  readonly processes: readonly Owned<ProcessSpec>[];
  /** Longest prefix first (nginx picks the longest prefix match; the file reads in the same order). */
  readonly routes: readonly Owned<RouteSpec>[];
  readonly files: readonly Owned<FileSpec>[];
  readonly secrets: StackSecrets;
  /** The files nginx serves TLS with: the pillar's, else the `ca` task's. */
  readonly tls: { certificate: string; key: string };
  readonly token: TokenSettings;
  /** Major version of the pinned registry (keys of config.yml differ between 2.x and 3.x). */
  readonly registryMajor: number;
  /** The public keys dropped into {data_root}/ssh/authorized_keys.d/, by file name. */
  readonly authorizedKeys: readonly { file: string; key: string }[];
}

export function stackPaths(pillar: Pillar): StackPaths {
  const data = pillar.data_root;
  return {
    data,
    etc: join(data, 'etc'),
    log: join(data, 'log'),
    run: join(data, 'run'),
    ca: join(data, 'ca'),
    processSecrets: join(data, 'secrets', 'processes'),
    ssh: join(data, 'ssh'),
    images: pillar.registry.images,
  };
}

/**
 * Where nginx's TLS files come from: `{file: PATH}`, PEM text (the certificate
 * written under etc/nginx/tls/, the key as a private file: nginx's master reads
 * it as root), or the `ca` task's.
 */
function tlsFiles(pillar: Pillar, paths: StackPaths): Stack['tls'] {
  const pick = (value: Pillar['tls']['cert'], inline: string, fromCa: string) =>
    value === null ? join(paths.ca, fromCa) : typeof value === 'string' ? inline : value.file;
  return {
    certificate: pick(pillar.tls.cert, join(paths.etc, 'nginx', 'tls', 'server.crt'), 'server.crt'),
    key: pick(pillar.tls.key, join(paths.processSecrets, INLINE_TLS_KEY), 'server.key'),
  };
}

/** The private file of a TLS key given as PEM text in the pillar. */
export const INLINE_TLS_KEY = 'nginx/server.key';

/** Major version of the pinned registry (2 when the ref is no version). */
export function registryMajor(pillar: Pillar): number {
  const ref = pillar.binaries.registry?.source.ref ?? '';
  return semver.coerce(ref)?.major ?? 2;
}

const byPriority = (a: Owned<ProcessSpec>, b: Owned<ProcessSpec>) =>
  (a.value.priority ?? 999) - (b.value.priority ?? 999) || a.value.name.localeCompare(b.value.name);

const longestFirst = (a: Owned<RouteSpec>, b: Owned<RouteSpec>) =>
  b.value.prefix.length - a.value.prefix.length || a.value.prefix.localeCompare(b.value.prefix);

export interface StackInputs {
  secrets: StackSecrets;
  authorizedKeys: Stack['authorizedKeys'];
}

/** Freezes the pillar, the registrations and the secrets into the model every renderer reads. */
export function freezeStack(pillar: Pillar, plugins: PluginRegistry, inputs: StackInputs): Stack {
  const paths = stackPaths(pillar);
  const { token } = pillar.auth;
  return Object.freeze({
    pillar,
    paths,
    processes: [...plugins.processes].sort(byPriority),
    routes: [...plugins.routes].sort(longestFirst),
    files: [...plugins.files],
    secrets: inputs.secrets,
    tls: tlsFiles(pillar, paths),
    token: { issuer: token.issuer, service: token.service, realm: token.realm, certificate: join(paths.ca, 'token.crt'), key: join(paths.ca, 'token.key') },
    registryMajor: registryMajor(pillar),
    authorizedKeys: inputs.authorizedKeys,
  });
}
