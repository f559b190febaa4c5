// The plugin host: dependency order, missing/cyclic dependencies, duplicate
// names with both owners, option defaults and validation, typed registrations,
// and plugins loaded from the pillar's `plugins:` list.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import test, { type ExecutionContext } from 'ava';
import { loadPillar } from '../pillar/loader.ts';
import type { Pillar } from '../pillar/schema.ts';
import { definePlugin, pluginFactory, type Plugin, type PluginHost } from '../plugins/api.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { importPlugins, orderPlugins, setupPlugins, type PluginSource } from '../plugins/host.ts';
import { createTasks } from '../tasks/index.ts';
import { tempDir } from './helpers/tmp.ts';

const HEALTHZ = fileURLToPath(new URL('fixtures/plugins/healthz.ts', import.meta.url));
const PROBE_FACTORY = fileURLToPath(new URL('fixtures/plugins/probe-factory.ts', import.meta.url));

const plugin = (name: string, dependsOn: string[] = [], setup: (host: PluginHost, options: Record<string, unknown>) => void = () => {}, extra: Partial<Plugin> = {}): Plugin =>
  definePlugin<TObject>({ name, dependsOn, setup, ...extra });
const fromCode = (...plugins: Plugin[]): PluginSource[] => plugins.map((p) => ({ plugin: p, from: `test ${p.name}` }));
const builtins = (): PluginSource[] => builtinPlugins.map((p) => ({ plugin: p, from: 'corpus-kit (built-in)' }));

async function pillar(overrides: object = {}): Promise<Pillar> {
  return (await loadPillar({ cwd: '/nonexistent', env: {}, code: [{ data_root: '/srv/test', ...overrides }] })).pillar;
}

test('plugins run in registration order, each after its dependencies', (t) => {
  const order = orderPlugins(fromCode(plugin('a', ['c']), plugin('b'), plugin('c'), plugin('d', ['a', 'b']))).map((s) => s.plugin.name);
  t.deepEqual(order, ['c', 'a', 'b', 'd']);
  const kit = orderPlugins(builtins()).map((s) => s.plugin.name);
  t.true(kit.indexOf('cron') < kit.indexOf('logrotate'));
  t.true(kit.indexOf('registry') < kit.indexOf('nginx'));
});

test('a missing dependency names the plugin, where it came from and a did-you-mean', (t) => {
  const error = t.throws(() => orderPlugins([...builtins(), ...fromCode(plugin('healthz', ['nginxx']))]));
  t.is(error!.message, 'plugin "healthz" (test healthz) depends on "nginxx", which is not loaded; did you mean "nginx"?');
});

test('a dependency cycle is refused naming the whole chain', (t) => {
  const error = t.throws(() => orderPlugins(fromCode(plugin('x'), plugin('a', ['b']), plugin('b', ['c']), plugin('c', ['a']))));
  t.is(error!.message, 'plugin dependency cycle: a -> b -> c -> a');
});

test('a plugin name given twice names both owners', (t) => {
  const error = t.throws(() => orderPlugins([...builtins(), ...fromCode(plugin('nginx'))]));
  t.is(error!.message, 'plugin "nginx" is registered twice: by corpus-kit (built-in) and by test nginx');
});

const DUPLICATES: [string, (host: PluginHost) => void, string][] = [
  ['process', (h) => h.addProcess({ name: 'registry', command: ['true'] }), 'process "registry" is registered twice: by plugin "registry" and by plugin "late"'],
  ['route', (h) => h.addRoute({ prefix: '/docker_auth_service/', upstream: { host: '127.0.0.1', port: 9 } }), 'route "/docker_auth_service/" is registered twice: by plugin "docker-auth" and by plugin "late"'],
  ['file', (h) => h.addFile({ path: 'cron/logrotate', content: '' }), 'file "cron/logrotate" is registered twice: by plugin "logrotate" and by plugin "late"'],
];

for (const [kind, register, message] of DUPLICATES) {
  test(`a ${kind} registered by two plugins names both`, async (t) => {
    const error = await t.throwsAsync(setupPlugins([...builtins(), ...fromCode(plugin('late', [], register))], await pillar(), []));
    t.is(error!.message, message);
  });
}

test('a task registered by two plugins names both', async (t) => {
  const addTask = (h: PluginHost) => h.addTask({ name: 'stack:status', run: async () => {}, description: 'status' });
  const error = await t.throwsAsync(setupPlugins(fromCode(plugin('one', [], addTask), plugin('two', [], addTask)), await pillar(), []));
  t.is(error!.message, 'task "stack:status" is registered twice: by plugin "one" and by plugin "two"');
});

test('a plugin task named like a kit task fails every run, naming corpus-kit', async (t) => {
  const dir = await tempDir(t);
  let log = '';
  const clash = plugin('clash', [], (h) => h.addTask({ name: 'doctor', run: async () => {}, description: 'mine' }));
  const tasks = await createTasks({ cwd: dir, pillar: [{ data_root: join(dir, 'data') }], plugins: [clash], env: {}, logger: { err: (s) => (log += s) } });
  const error = await t.throwsAsync(tasks['pillar:check']!());
  t.is(error!.message, 'task "doctor" is registered twice: by corpus-kit and by plugin "clash"');
  t.regex(log, /plugin tasks are not listed: task "doctor" is registered twice/);
});

const PROBE_OPTIONS = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65535, title: 'TCP port', default: 8099 }),
  prefix: Type.String({ pattern: '^/[a-z/]*$', title: 'URL path prefix', default: '/healthz' }),
  tuning: Type.Object({ retries: Type.Integer({ default: 3 }), backoff: Type.Integer({ default: 2 }) }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

test('options are the schema defaults, under code-given options, under plugins_config.<name>', async (t) => {
  let seen: Static<typeof PROBE_OPTIONS> | undefined;
  const probe = pluginFactory({ name: 'probe', options: PROBE_OPTIONS, setup: (_h, options) => void (seen = options) });
  await setupPlugins(fromCode(probe({ prefix: '/probe' })), await pillar({ plugins_config: { probe: { port: 8123, tuning: { retries: 5 } } } }), []);
  t.deepEqual(seen, { port: 8123, prefix: '/probe', tuning: { retries: 5, backoff: 2 } });
});

test('a plugin factory from a pillar plugins: entry is called with no options; plugins_config gives them', async (t) => {
  const sources = await importPlugins([PROBE_FACTORY], '/');
  const registry = await setupPlugins(sources, await pillar({ plugins_config: { probe: { port: 8124 } } }), []);
  t.deepEqual(registry.routes.map((r) => r.value), [{ prefix: '/p', upstream: { host: '127.0.0.1', port: 8124 } }]);
});

test('every plugin option problem is reported at once, each with the file it came from', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'pillar.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\nplugins_config:\n  probe: {port: 70000, prt: 1}\n  other: {prefix: "/x;y"}\n`);
  const loaded = await loadPillar({ cwd: dir, files: [file], env: {} });
  const probe = pluginFactory({ name: 'probe', options: PROBE_OPTIONS, setup() {} });
  const other = pluginFactory({ name: 'other', options: PROBE_OPTIONS, setup() {} });
  const error = await t.throwsAsync(setupPlugins(fromCode(probe(), other({ port: 0 })), loaded.pillar, [], { originOf: loaded.originOf }));
  t.is(error!.message, [
    'invalid plugin options (4 problems):',
    `  - plugins_config.probe.prt (from ${file}): expected no such key, got unknown key "prt"; did you mean "port"?; an option of plugin "probe"`,
    `  - plugins_config.probe.port (from ${file}): expected TCP port, got 70000; an option of plugin "probe"`,
    '  - plugins_config.other.port (from code: other(options)): expected TCP port, got 0; an option of plugin "other"',
    `  - plugins_config.other.prefix (from ${file}): expected URL path prefix, got "/x;y"; an option of plugin "other"`,
  ].join('\n'));
});

test('a plugin without an options schema takes no options', async (t) => {
  const error = await t.throwsAsync(setupPlugins(fromCode(plugin('bare')), await pillar({ plugins_config: { bare: { port: 1 } } }), []));
  t.true(error!.message.includes('plugins_config.bare.port: expected'), error!.message);
});

test('plugins_config for a plugin that is not loaded is an error with a did-you-mean', async (t) => {
  const error = await t.throwsAsync(setupPlugins([...builtins()], await pillar({ plugins_config: { ngin: {} } }), []));
  t.is(error!.message, 'plugins_config.ngin: no plugin named "ngin" is loaded; did you mean "nginx"?');
});

// What a plugin registers reaches supervisor/nginx files: the same typed checks as the pillar.
const INJECTIONS: [string, (h: PluginHost) => void, string][] = [
  ['process name', (h) => h.addProcess({ name: 'web;x', command: ['true'] }), 'name'],
  ['command argument with a space', (h) => h.addProcess({ name: 'web', command: ['sh', '-c', 'rm -rf /'] }), 'command.2'],
  ['command argument with $', (h) => h.addProcess({ name: 'web', command: ['echo', '$HOME'] }), 'command.1'],
  ['environment value with a newline', (h) => h.addProcess({ name: 'web', command: ['true'], environment: { A: 'x\ny' } }), 'environment.A'],
  ['environment name', (h) => h.addProcess({ name: 'web', command: ['true'], environment: { 'A;B': 'x' } }), 'environment.A;B'],
  ['process user', (h) => h.addProcess({ name: 'web', command: ['true'], user: 'root"' }), 'user'],
  ['route prefix with ;', (h) => h.addRoute({ prefix: '/x; return 200', upstream: { host: '127.0.0.1', port: 1 } }), 'prefix'],
  ['route prefix with {', (h) => h.addRoute({ prefix: '/x{', upstream: { host: '127.0.0.1', port: 1 } }), 'prefix'],
  ['route upstream host', (h) => h.addRoute({ prefix: '/x/', upstream: { host: 'a b', port: 1 } }), 'upstream.host'],
  ['route body size', (h) => h.addRoute({ prefix: '/x/', upstream: { host: 'h', port: 1 }, max_body_size: '1m;' }), 'max_body_size'],
  ['file path with ..', (h) => h.addFile({ path: '../passwd', content: '' }), 'path'],
  ['file path absolute', (h) => h.addFile({ path: '/etc/passwd', content: '' }), 'path'],
  ['file path with a quote', (h) => h.addFile({ path: "a'b", content: '' }), 'path'],
];

for (const [what, register, path] of INJECTIONS) {
  test(`a plugin registration is refused: ${what}`, async (t) => {
    const error = await t.throwsAsync(setupPlugins(fromCode(plugin('sneaky', [], register)), await pillar(), []));
    t.regex(error!.message, /^plugin "sneaky": add(Process|Route|File):\n/);
    t.true(error!.message.includes(`  - ${path}: expected `), error!.message);
  });
}

async function projectWithHealthz(t: ExecutionContext, extra = '') {
  const dir = await tempDir(t);
  const file = join(dir, 'pillar.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\nplugins: [${relative(dir, HEALTHZ)}]\n${extra}`);
  return { dir, file };
}

test('a plugin from the pillar plugins: list (relative path) adds a task that lists and runs', async (t) => {
  const { dir, file } = await projectWithHealthz(t, 'plugins_config: {healthz: {port: 8123}}\n');
  let out = '';
  const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file], env: {}, logger: { out: (s) => (out += s), err: () => {} } });
  t.is(tasks['healthz:where']?.description, 'Print where the health endpoint is proxied to');
  t.true(Object.keys(tasks['healthz:where']!.flags).some((flag) => flag.startsWith('--pillar')));
  await tasks['healthz:where']!();
  t.is(out, '/healthz -> 127.0.0.1:8123\n');
});

test('a pillar-listed plugin with bad options fails with the key path, checked by its TypeBox schema', async (t) => {
  const { dir, file } = await projectWithHealthz(t, 'plugins_config: {healthz: {prefix: "/h;x"}}\n');
  const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file], env: {}, logger: { err: () => {} } });
  t.is(tasks['healthz:where'], undefined);
  const error = await t.throwsAsync(tasks['pillar:check']!());
  t.true(error!.message.includes(`plugins_config.healthz.prefix (from ${file}): expected URL path prefix, got "/h;x"`), error!.message);
});

test('a plugins: entry that does not load says which and from where', async (t) => {
  const dir = await tempDir(t);
  const tasks = await createTasks({ cwd: dir, pillar: [{ data_root: join(dir, 'data'), plugins: ['./missing-plugin.ts'] }], env: {}, logger: { err: () => {} } });
  const error = await t.throwsAsync(tasks['pillar:check']!());
  t.true(error!.message.startsWith(`plugins: cannot load "./missing-plugin.ts" (from ${dir})`), error!.message);
});
