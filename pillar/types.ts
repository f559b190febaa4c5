// Typed string and number values of the pillar. Every value that can reach an
// nginx, supervisor or shell file has one of these types, so that no `;`, `{`,
// `}`, newline, quote, backslash or `$` can inject configuration.
import { Type, type TSchema, type TString } from '@sinclair/typebox';

/**
 * Characters that never appear in a typed value that reaches a rendered file
 * (as the inside of a regex character class): config syntax, quotes, and every
 * control character (newline, tab, NUL...), which ends or splits a config line.
 */
const UNSAFE = ';{}"\'\\\\$`\\x00-\\x1f\\x7f';

const text = (pattern: string, title: string, examples: string[], extra: object = {}) =>
  Type.String({ pattern, title, examples, ...extra });

export const Domain = text(
  '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
  'domain name',
  ['registry.example.com'],
);

/** A hostname, an IPv4 address or a bare IPv6 address (`::1`). */
export const HostAddress = text(
  '^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$',
  'host name or IP address',
  ['127.0.0.1', '::1'],
);

export const Port = Type.Integer({ minimum: 1, maximum: 65535, title: 'TCP port' });

/** `host:port`, as the registry's debug listener takes it. */
export const ListenAddress = text('^(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}$', 'host:port', ['127.0.0.1:5001']);

export const AbsolutePath = text(
  '^(?!.*/\\.\\.(?:/|$))/[A-Za-z0-9._/+@=,:-]*$',
  'absolute path (no spaces, no ..)',
  ['/srv/projects/registry/data'],
);

/** A path inside the project directory: relative, and no `..` to climb out of it. */
export const PathName = text('^(?!/)(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._/+@=,:-]+$', 'project-relative path (no leading /, no .., no spaces)', ['dist/publish']);

export const RoutePrefix = text('^/(?:[A-Za-z0-9._~-]+/?)*$', 'URL path prefix', ['/authserver/']);

export const ProcessName = text('^[a-z][a-z0-9_-]{0,62}$', 'process name (lowercase letters, digits, - and _)', [
  'registry',
]);

export const UnixName = text('^[a-z_][a-z0-9_-]{0,31}$', 'unix user or group name', ['registry']);

export const Gid = Type.Integer({ minimum: 1, maximum: 2147483647, title: 'unix group id' });

/**
 * An exact tag or a full commit SHA. Branch names are refused: a tag must hold a
 * digit (v2.8.3, 1.14.0), and fetch checks that the name resolves under refs/tags/.
 */
export const GitRef = text(
  '^(?:[0-9a-f]{40}|(?=[^/]*[0-9])[A-Za-z0-9][A-Za-z0-9._+-]{0,127})$',
  'exact git tag (holding a digit) or full 40-hex commit SHA; branch names are refused',
  ['v2.8.3', '1.14.0'],
);

/** A git remote: URL, scp-like address or local path. */
const urlChars = `[^\\s${UNSAFE}]`;
export const GitRemote = text(
  `^(?:(?:https?|ssh|git|file)://${urlChars}+|/${urlChars}*|[A-Za-z0-9_][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:${urlChars}+|\\.{1,2}/${urlChars}*)$`,
  'git URL, scp-like address or path',
  ['https://github.com/distribution/distribution.git'],
);

export const ImageRef = text('^[a-z0-9][A-Za-z0-9._:/@-]{0,254}$', 'container image reference', [
  'golang:1.24@sha256:…',
]);

export const RecipeName = text('^[a-z0-9][a-z0-9-]{0,62}$', 'recipe name under container/recipes/', [
  'golang-bookworm',
]);

/** A Go import path or a directory inside the source tree (no `..`). */
export const GoPath = text('^(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._/~+-]+$', 'Go package path or relative directory', [
  './cmd/registry',
]);

/** A build string where `{version}` and `{commit}` are filled in at build time. */
export const BuildString = text(
  `^(?:[^${UNSAFE}]|\\{(?:version|commit)\\})*$`,
  'text; {version} and {commit} are filled in at build time',
  ['-X main.version={version}'],
);

/** Free text that still may not carry configuration syntax. */
export const SafeText = text(`^[^${UNSAFE}]*$`, 'text without ; { } quotes, backslash, $ or control characters', ['pull']);

export const HttpUrl = text(`^https?://[^\\s<>${UNSAFE}]+$`, 'http(s) URL', ['https://registry.example.com/authserver/auth']);

export const RepoName = text('^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$', 'OWNER/NAME', ['corpus/registry']);

export const TagName = text('^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$', 'tag name', ['attachedfiles']);

export const ImageName = text('^[a-z0-9]+(?:[._/-][a-z0-9]+)*$', 'image repository name', ['corpus/registry']);

export const EnvName = text('^[A-Za-z_][A-Za-z0-9_]*$', 'environment variable name', ['REGISTRY_READONLY_PASSWORD']);

export const ModuleSpecifier = text('^[A-Za-z0-9@._/-]+$', 'relative path or package name', ['./plugins/healthz.ts']);

/** `{env: NAME}`: the value is read from the environment (or .env) when needed. */
export const EnvRef = Type.Object({ env: EnvName }, { additionalProperties: false });

/**
 * A secret: a literal, `{env: NAME}`, or null (generated once and stored under
 * `{data_root}/secrets/`). Literals never reach a rendered file as such (they are
 * hashed or written to files of their own), so any text is allowed.
 */
/** Shorter secrets are refused: they are guessable, and masking them would mangle ordinary output. */
export const MIN_SECRET_LENGTH = 8;

export const Secret = Type.Union([Type.Null(), Type.String({ minLength: MIN_SECRET_LENGTH }), EnvRef], {
  title: 'secret: null (generated), text, or {env: NAME}',
  // writeOnly marks a secret for the kit: its value is never echoed (problems,
  // pillar:show) and never takes part in `{key}` references.
  writeOnly: true,
});

/** PEM text, or `{file: PATH}`. */
const pem = (options: object = {}) =>
  Type.Union(
    [
      Type.Null(),
      Type.String({ pattern: '^-----BEGIN [A-Z ]+-----', title: 'PEM text' }),
      Type.Object({ file: AbsolutePath }, { additionalProperties: false }),
    ],
    { title: 'null, PEM text or {file: PATH}', ...options },
  );
export const PemSource = pem();
/** A private key: PEM text here is a secret (see Secret). */
export const PrivatePemSource = pem({ writeOnly: true });

/**
 * A mapping whose keys are typed too (user names, binary names...): the key
 * reaches file names and config just like a value does. propertyNames states
 * it for editors; additionalProperties makes the runtime check refuse it.
 */
export function typedRecord<K extends TString, V extends TSchema>(key: K, value: V, options: object = {}) {
  return Type.Record(key, value, { additionalProperties: false, propertyNames: key, ...options });
}

export function strictObject<T extends Record<string, TSchema>>(properties: T, options: object = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}
