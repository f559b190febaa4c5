// Golden files: every component's rendered files for a fixed in-memory model
// (pillar, a test plugin's process and route, fixed secrets), compared byte for
// byte with test/fixtures/render-golden/ (reviewed by eye once; regenerate with
// UPDATE_GOLDEN=1 and review the diff). Same model, same bytes, on any machine.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { loadPillar } from '../pillar/loader.ts';
import { PACKAGE_ROOT } from '../pillar/package-root.ts';
import { definePlugin } from '../plugins/api.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { setupPlugins } from '../plugins/host.ts';
import { freezeStack } from '../plugins/stack.ts';
import { renderFiles } from '../tasks/render/files.ts';

const GOLDEN = fileURLToPath(new URL('fixtures/render-golden/', import.meta.url));

const webapp = definePlugin({
  name: 'webapp',
  dependsOn: ['nginx'],
  setup(host) {
    host.addProcess({ name: 'webapp', command: ['/srv/webapp/bin/node', 'server.js', '--port=8099'], directory: '/srv/webapp', user: 'registry', environment: { GREETING: 'hello world 100%', MODE: 'a=b' }, stopwaitsecs: 30, log: 'stdout', ports: [8099] });
    host.addRoute({ prefix: '/webapp/', upstream: { host: '127.0.0.1', port: 8099 }, max_body_size: '10m' });
    host.addRoute({ prefix: '/webapp/api/', upstream: { host: '127.0.0.1', port: 8099 } });
    host.addFile({ path: 'cron/webapp', content: '*/5 * * * * /srv/webapp/bin/node /srv/webapp/sweep.js\n' });
  },
});

const MODES: Record<string, object> = {
  token: { server_aliases: ['registry.example.org'] },
  htpasswd: {
    auth: { mode: 'htpasswd' },
    supervisor: 'circus',
    force_ssl: true,
    ports: { http: 8080, https: 8443 },
    acl: [
      { match: { account: 'admin' }, actions: ['*'] },
      { match: { account: 'readonly', name: 'library/*' }, actions: ['pull'] },
      { match: { name: 'public/*' }, actions: ['pull'] },
    ],
  },
};

async function rendered(mode: string) {
  const { pillar } = await loadPillar({ cwd: '/nonexistent', env: {}, code: [{ data_root: '/srv/registry/data', ...MODES[mode] }] });
  const plugins = await setupPlugins([...builtinPlugins.map((plugin) => ({ plugin, from: 'built-in' })), { plugin: webapp, from: 'test' }], pillar, []);
  const stack = freezeStack(pillar, plugins, {
    secrets: { users: { admin: 'admin-password-1', readonly: 'readonly-password-1' }, redisPassword: 'redis-password-1', httpSecret: 'http-secret-1' },
    authorizedKeys: [{ file: 'alice.pub', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGolden alice@example\n' }],
  });
  // The cron process is the node running render with the kit's scheduler: where both are installed differs by
  // machine (the webapp's node is its own, so never this one).
  // Private files (installed under secrets/processes/) are kept apart under private/.
  return renderFiles(stack, plugins).map((file) => ({
    ...file,
    path: file.private ? join('private', file.path) : file.path,
    content: file.content.replaceAll(process.execPath, '{node}').replaceAll(PACKAGE_ROOT, '{package}'),
  })).sort((a, b) => a.path.localeCompare(b.path));
}

async function listGolden(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

for (const mode of Object.keys(MODES)) {
  test(`${mode} mode: every rendered file is byte-identical to its golden`, async (t) => {
    const files = await rendered(mode);
    const dir = join(GOLDEN, mode);
    if (process.env.UPDATE_GOLDEN) {
      for (const file of files) {
        await mkdir(dirname(join(dir, file.path)), { recursive: true });
        await writeFile(join(dir, file.path), file.content);
      }
    }
    t.deepEqual(files.map((f) => f.path), await listGolden(dir));
    for (const file of files) t.is(file.content, await readFile(join(dir, file.path), 'utf8'), file.path);
  });
}

test('rendering twice from the same model gives the same bytes', async (t) => {
  t.deepEqual(await rendered('htpasswd'), await rendered('htpasswd'));
});
