import { join } from 'node:path';
import { stringify } from 'yaml';
import { definePlugin, type RenderedFile } from '../api.ts';
import { header } from '../render/template.ts';
import type { Pillar } from '../../pillar/schema.ts';
import { registryEnvValue } from '../render/escape.ts';
import { registryMajor, type Stack } from '../stack.ts';
import { binaryPath, etcFile, hostPort, portOf } from './paths.ts';

/** Everything no other route claims (nginx picks the longest prefix). */
export const REGISTRY_ROUTE = '/';

/** The registry API's base, what the launcher probes through nginx. */
export const REGISTRY_API = '/v2/';

/**
 * The keys each major version of distribution reads (`*`: any key). The registry
 * ignores unknown keys silently, so a misspelt or wrong-version key would pass
 * unnoticed: the rendered object is checked against this list instead.
 */
const SHARED_KEYS = [
  'version', 'log.level', 'log.formatter', 'log.fields.*',
  'storage.filesystem.rootdirectory', 'storage.delete.enabled', 'storage.cache.blobdescriptor',
  'storage.maintenance.uploadpurging.enabled', 'storage.maintenance.uploadpurging.age',
  'storage.maintenance.uploadpurging.interval', 'storage.maintenance.uploadpurging.dryrun',
  'http.addr', 'http.secret', 'http.debug.addr', 'http.headers.*',
  'redis.password', 'redis.db', 'redis.dialtimeout', 'redis.readtimeout', 'redis.writetimeout',
  'auth.token.realm', 'auth.token.service', 'auth.token.issuer', 'auth.token.rootcertbundle',
  'auth.htpasswd.realm', 'auth.htpasswd.path',
];

/** 3.x renamed the redis address and pool keys. */
const KNOWN_KEYS: Record<number, readonly string[]> = {
  2: [...SHARED_KEYS, 'redis.addr', 'redis.pool.maxidle', 'redis.pool.maxactive', 'redis.pool.idletimeout'],
  3: [...SHARED_KEYS, 'redis.addrs', 'redis.maxidleconns', 'redis.poolsize', 'redis.connmaxidletime'],
};

/** Leaf key paths of a YAML object (a list is a leaf). */
function leafPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, path ? `${path}.${key}` : key));
}

/** Keys of `config` that distribution `major`.x does not read. */
export function unknownRegistryKeys(config: object, major: number): string[] {
  const known = KNOWN_KEYS[major];
  if (!known) return [`(distribution ${major}.x: no key list; supported: ${Object.keys(KNOWN_KEYS).join(', ')})`];
  const matches = (path: string, pattern: string) => pattern.endsWith('.*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
  return leafPaths(config).filter((path) => !known.some((pattern) => matches(path, pattern)));
}

/** The registry's config.yml as an object (never a text template). */
export function registryConfig(stack: Stack): object {
  const { pillar, token, registryMajor } = stack;
  const r = pillar.registry;
  const redisAddress = hostPort(pillar.redis.host, pillar.redis.port);
  const redis = registryMajor >= 3
    ? { addrs: [redisAddress], db: 0, dialtimeout: '1s', readtimeout: '1s', writetimeout: '1s', maxidleconns: 16, poolsize: 64, connmaxidletime: '300s' }
    : { addr: redisAddress, db: 0, dialtimeout: '1s', readtimeout: '1s', writetimeout: '1s', pool: { maxidle: 16, maxactive: 64, idletimeout: '300s' } };
  return {
    version: 0.1,
    log: { level: r.log_level, formatter: 'text', fields: { service: 'registry' } },
    storage: {
      filesystem: { rootdirectory: r.images },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: r.purging, age: '168h', interval: '24h', dryrun: false } },
      cache: { blobdescriptor: r.redis ? 'redis' : 'inmemory' },
    },
    http: {
      addr: hostPort(r.host, r.port),
      debug: { addr: r.debug_addr },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
    ...(r.redis ? { redis } : {}),
    // htpasswd mode: nginx authenticates and enforces the acl; the registry listens
    // on loopback only. Not auth.htpasswd as well: distribution 2.x reads that file
    // only at start, so adding a user would restart the registry mid-push instead
    // of a graceful nginx reload.
    ...(pillar.auth.mode === 'token' ? { auth: { token: { realm: token.realm, service: token.service, issuer: token.issuer, rootcertbundle: token.certificate } } } : {}),
  };
}

function renderRegistry(stack: Stack): RenderedFile[] {
  const config = registryConfig(stack);
  const unknown = unknownRegistryKeys(config, stack.registryMajor);
  if (unknown.length > 0) throw new Error(`registry/config.yml: keys distribution ${stack.registryMajor}.x does not read: ${unknown.join(', ')}`);
  // http.secret and the redis password are not in config.yml: the registry reads
  // them from its environment (secret_env), each value parsed as YAML.
  const files: RenderedFile[] = [
    { path: 'registry/config.yml', content: `# ${header('plugins/builtin/registry.ts (an object, serialised)')}\n${stringify(config, { lineWidth: 0 })}` },
    { path: HTTP_SECRET_FILE, content: registryEnvValue(stack.secrets.httpSecret), private: true },
  ];
  if (stack.pillar.registry.redis) files.push({ path: REDIS_PASSWORD_FILE, content: registryEnvValue(stack.secrets.redisPassword), private: true });
  return files;
}

/** The registry's secrets: private files under {data_root}/secrets/processes/. */
const HTTP_SECRET_FILE = 'registry/http_secret';
const REDIS_PASSWORD_FILE = 'registry/redis_password';

/**
 * The variable each secret is read from. The registry's overrides follow its Go
 * field names: 3.x holds the redis options inline under `Options`, and ignores
 * REGISTRY_REDIS_PASSWORD with a warning (seen with v3.0.0).
 */
function secretEnv(pillar: Pillar): Record<string, string> {
  const env: Record<string, string> = { REGISTRY_HTTP_SECRET: HTTP_SECRET_FILE };
  if (pillar.registry.redis) env[registryMajor(pillar) >= 3 ? 'REGISTRY_REDIS_OPTIONS_PASSWORD' : 'REGISTRY_REDIS_PASSWORD'] = REDIS_PASSWORD_FILE;
  return env;
}

/** The distribution registry; nginx sends it everything no other route claims. */
export default definePlugin({
  name: 'registry',
  setup(host) {
    const { pillar } = host;
    const r = pillar.registry;
    host.addProcess({
      name: 'registry', command: [binaryPath(pillar, 'registry'), 'serve', etcFile(pillar, 'registry', 'config.yml')],
      user: pillar.user, autorestart: true, priority: 20, ports: [r.port, portOf(r.debug_addr)], directory: join(pillar.data_root),
      secret_env: secretEnv(pillar),
    });
    host.addRoute({ prefix: REGISTRY_ROUTE, upstream: { host: r.host, port: r.port }, max_body_size: '0' });
    host.addRenderer(renderRegistry);
  },
});
