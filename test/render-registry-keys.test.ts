// The registry ignores keys it does not know, so config.yml is checked against
// the keys of the pinned major version: a misspelt or other-version key is named.
import test from 'ava';
import { loadPillar } from '../pillar/loader.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { unknownRegistryKeys } from '../plugins/builtin/registry.ts';
import { setupPlugins } from '../plugins/host.ts';

const shared = { version: 0.1, http: { addr: '127.0.0.1:5000', secret: 'x', headers: { 'X-Content-Type-Options': ['nosniff'] } }, storage: { delete: { enabled: true } } };

const cases: [string, object, number, string[]][] = [
  ['2.x keys in a 2.x config', { ...shared, redis: { addr: '127.0.0.1:6379', pool: { maxidle: 16 } } }, 2, []],
  ['3.x keys in a 3.x config', { ...shared, redis: { addrs: ['127.0.0.1:6379'], maxidleconns: 16 } }, 3, []],
  ['a 3.x redis key in a 2.x config', { ...shared, redis: { addrs: ['127.0.0.1:6379'] } }, 2, ['redis.addrs']],
  ['a 2.x pool key in a 3.x config', { ...shared, redis: { pool: { maxactive: 64 } } }, 3, ['redis.pool.maxactive']],
  ['a misspelt key', { ...shared, storage: { delete: { enable: true } } }, 2, ['storage.delete.enable']],
  ['free-form header names', { ...shared, http: { headers: { 'X-Anything': ['1'] } } }, 3, []],
];

for (const [title, config, major, expected] of cases) {
  test(`registry keys: ${title}`, (t) => {
    t.deepEqual(unknownRegistryKeys(config, major), expected);
  });
}

test('registry keys: a major version without a key list is named, never passed', (t) => {
  t.regex(unknownRegistryKeys(shared, 4).join(), /distribution 4\.x: no key list; supported: 2, 3/);
});

// The registry's environment overrides follow its Go field names: 3.x holds the
// redis options inline under `Options` and ignores REGISTRY_REDIS_PASSWORD.
for (const [ref, variable] of [['v2.8.3', 'REGISTRY_REDIS_PASSWORD'], ['v3.0.0', 'REGISTRY_REDIS_OPTIONS_PASSWORD']] as const) {
  test(`registry ${ref} gets the redis password as ${variable}, http.secret as REGISTRY_HTTP_SECRET`, async (t) => {
    const { pillar } = await loadPillar({ cwd: '/nonexistent', env: {}, code: [{ data_root: '/srv/registry/data', binaries: { registry: { source: { ref } } } }] });
    const plugins = await setupPlugins(builtinPlugins.map((plugin) => ({ plugin, from: 'built-in' })), pillar, []);
    const registry = plugins.processes.find((p) => p.value.name === 'registry')!.value;
    t.deepEqual(registry.secret_env, { REGISTRY_HTTP_SECRET: 'registry/http_secret', [variable]: 'registry/redis_password' });
  });
}
