// A plugin's processes, routes and files take part in render: they appear in
// the validated, installed files; a port another owner uses fails render naming
// both; pillar values and registrations that carry config syntax are refused
// before anything is written.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { definePlugin, type PluginHost } from '../plugins/api.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { renderProject } from './helpers/render-project.ts';

const webapp = (port: number, register: (host: PluginHost) => void = () => {}) => definePlugin({
  name: 'webapp',
  dependsOn: ['nginx'],
  setup(host) {
    host.addProcess({ name: 'webapp', command: ['/usr/bin/node', 'server.js', `--port=${port}`], environment: { GREETING: 'hello world 100%' }, ports: [port] });
    host.addRoute({ prefix: '/webapp/', upstream: { host: '127.0.0.1', port }, max_body_size: '10m' });
    register(host);
  },
});

test('a plugin\'s process and route appear, validated, in the installed supervisord.conf and nginx.conf', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  const { error, all } = await p.run(['ca', 'render'], [], [webapp(18999)]);
  t.is(error, undefined, all);
  const supervisord = await readFile(join(p.etc, 'supervisor', 'supervisord.conf'), 'utf8');
  t.regex(supervisord, /; webapp\n\[program:webapp\]\ncommand="\/usr\/bin\/node" "server\.js" "--port=18999"\nenvironment=GREETING="hello world 100%%"\n/);
  const nginx = await readFile(join(p.etc, 'nginx', 'nginx.conf'), 'utf8');
  t.regex(nginx, /# webapp\n\s+location \/webapp\/ \{\n\s+client_max_body_size 10m;[^}]*proxy_pass http:\/\/127\.0\.0\.1:18999;/);
  t.true(nginx.indexOf('location /webapp/') > nginx.indexOf('location /docker_auth_service/'), 'longest prefix first');
  t.regex(await readFile(join(p.etc, 'logrotate', 'logrotate.conf'), 'utf8'), /webapp\.log/);
});

test('a plugin process on a port another plugin uses fails render naming both owners', async (t) => {
  const p = await renderProject(t);
  const { error } = await p.run(['render'], [], [webapp(p.ports.registry)]);
  t.is(error?.message, `render: port ${p.ports.registry} is used twice: by plugin "registry" (process registry) and by plugin "webapp" (process webapp)`);
  t.false(existsSync(p.etc));
});

test('a plugin route to another plugin\'s port fails render naming both', async (t) => {
  const p = await renderProject(t);
  const sneaky = definePlugin({ name: 'sneaky', setup: (h) => h.addRoute({ prefix: '/sneaky/', upstream: { host: '127.0.0.1', port: p.ports.redis } }) });
  const { error } = await p.run(['render'], [], [sneaky]);
  t.is(error?.message, `render: route /sneaky/ of plugin "sneaky" points at port ${p.ports.redis}, which is used by plugin "redis" (process redis)`);
});

const INJECTIONS: [string, object, RegExp][] = [
  ['a server alias with ;', { server_aliases: ['a.example.com; return 200'] }, /server_aliases\.0/],
  ['a domain with }', { domain: 'x}.example.com' }, /domain/],
  ['a route prefix with a newline', { auth_server: { route: '/auth/\nlocation /' } }, /auth_server\.route/],
  ['an acl name with $', { acl: [{ match: { account: 'admin', name: '$uri' }, actions: ['*'] }] }, /acl\.0\.match\.name/],
  ['a redis memory size with a directive', { redis: { maxmemory: '1mb\nslaveof 1.2.3.4 1' } }, /redis\.maxmemory/],
  ['a data_root with a quote', { data_root: '/srv/x"y' }, /data_root/],
];

for (const [what, pillar, key] of INJECTIONS) {
  test(`render refuses ${what} before anything is written`, async (t) => {
    const p = await renderProject(t, pillar);
    const { error } = await p.run(['render']);
    t.regex(error?.message ?? '', key);
    t.false(existsSync(p.data), 'nothing written');
  });
}

const REGISTRATIONS: [string, (h: PluginHost) => void, RegExp][] = [
  ['an environment value with %s and a newline', (h) => h.addProcess({ name: 'x', command: ['/bin/true'], environment: { A: 'x\n[program:evil]' } }), /environment\.A/],
  ['a command argument with a quote', (h) => h.addProcess({ name: 'x', command: ['/bin/sh', '-c', '"id"'] }), /command\.2/],
  ['a route body size with ;', (h) => h.addRoute({ prefix: '/x/', upstream: { host: '127.0.0.1', port: 1 }, max_body_size: '1m; allow all' }), /max_body_size/],
  ['a route prefix with }', (h) => h.addRoute({ prefix: '/x}', upstream: { host: '127.0.0.1', port: 1 } }), /prefix/],
  ['a rendered file outside etc', (h) => h.addRenderer(() => [{ path: '../evil', content: '' }]), /path: expected path relative to \{data_root\}\/etc/],
  ['a secret_env file outside secrets/processes', (h) => h.addProcess({ name: 'x', command: ['/bin/true'], secret_env: { TOKEN: '../../ca/ca.key' } }), /secret_env\.TOKEN/],
  ['a process with secrets that sets LD_PRELOAD (its wrapper runs as root)', (h) => {
    h.addProcess({ name: 'x', command: ['/bin/true'], environment: { LD_PRELOAD: '/tmp/evil.so' }, secret_env: { TOKEN: 'x/token' } });
    h.addRenderer(() => [{ path: 'x/token', content: 'secret-value-1234', private: true }]);
  }, /process x of plugin "evil" sets LD_PRELOAD: a process with secrets starts as root/],
  ['a secret_env named LD_LIBRARY_PATH', (h) => {
    h.addProcess({ name: 'x', command: ['/bin/true'], secret_env: { LD_LIBRARY_PATH: 'x/token' } });
    h.addRenderer(() => [{ path: 'x/token', content: '/tmp', private: true }]);
  }, /sets LD_LIBRARY_PATH/],
  ['a secret_env file no renderer returns as private', (h) => {
    h.addProcess({ name: 'x', command: ['/bin/true'], secret_env: { TOKEN: 'x/token' } });
    h.addRenderer(() => [{ path: 'x/token', content: 'not private' }]);
  }, /process x of plugin "evil" reads x\/token, which no renderer returns as a private file/],
];

for (const [what, register, key] of REGISTRATIONS) {
  test(`render refuses a plugin registration: ${what}`, async (t) => {
    const p = await renderProject(t);
    const { error } = await p.run(['render'], [], [definePlugin({ name: 'evil', setup: register })]);
    t.regex(error?.message ?? '', key);
    t.false(existsSync(p.etc), 'nothing installed');
  });
}
