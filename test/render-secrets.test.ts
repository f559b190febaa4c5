// No generated password, redis password, http.secret or private key appears in
// what ca, render (also --dry-run and a failing render) or pillar:show print,
// with --verbose; the files that hold them are 0640 or stricter. No secret is in
// any rendered file outside {data_root}/secrets/: processes get them at start.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { requireCommands } from './helpers/prerequisites.ts';
import { READONLY_PASSWORD, renderProject } from './helpers/render-project.ts';

test('no secret in the output of ca, render, render --dry-run, a failed render or pillar:show, with --verbose; secret files 0640 or stricter', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t, { auth: { mode: 'htpasswd' } });
  let all = '';
  const run = async (tasks: string[], argv: string[] = []) => {
    const result = await p.run(tasks, ['--verbose', ...argv]);
    all += result.all;
    return result;
  };
  t.is((await run(['ca', 'render', 'pillar:show'])).error, undefined, all);
  await p.setPillar({ auth: { mode: 'token' } });
  t.is((await run(['render'], ['--dry-run'])).error, undefined, all);
  await p.setPillar({ auth: { mode: 'token' }, tls: { cert: { file: '/nonexistent/server.crt' } } });
  t.truthy((await run(['render'])).error);

  const secrets = [READONLY_PASSWORD];
  for (const name of ['users.admin.password', 'redis.password', 'registry.http_secret']) secrets.push((await readFile(join(p.data, 'secrets', name), 'utf8')).trim());
  for (const key of ['ca.key', 'server.key', 'token.key', '../ssh/ssh_host_ed25519_key']) {
    secrets.push(...(await readFile(join(p.data, 'ca', key), 'utf8')).split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')));
  }
  t.true(all.includes('$ nginx -t'), 'verbose output was captured');
  for (const secret of secrets) t.false(all.includes(secret), `a secret was printed: ${secret.slice(0, 3)}...`);

  t.is((await stat(join(p.etc, 'nginx/htpasswd'))).mode & 0o137, 0, 'nginx/htpasswd is 0640 or stricter');
  t.is((await stat(join(p.etc, 'nginx'))).mode & 0o777, 0o750);
});

/** Every regular file under `dir` (following the links render installs). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(`${dir}/`, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('no secret is in any file render writes outside {data_root}/secrets/; the processes\' private files are root\'s, 0600 in 0700 folders', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t, { auth: { mode: 'htpasswd' } });
  t.is((await p.run(['ca'])).error, undefined);
  // The TLS key as PEM text in the pillar: it must not land under etc/ either.
  const tlsKey = await readFile(join(p.data, 'ca', 'server.key'), 'utf8');
  await p.setPillar({ auth: { mode: 'htpasswd' }, tls: { cert: await readFile(join(p.data, 'ca', 'server.crt'), 'utf8'), key: tlsKey } });
  const render = await p.run(['render']);
  t.is(render.error, undefined, render.all);

  const secrets = [READONLY_PASSWORD, ...tlsKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))];
  for (const name of ['users.admin.password', 'redis.password', 'registry.http_secret']) secrets.push((await readFile(join(p.data, 'secrets', name), 'utf8')).trim());
  const rendered = await filesUnder(p.etc);
  t.true(rendered.length > 10);
  for (const file of rendered) {
    const text = await readFile(file, 'utf8');
    for (const secret of secrets) t.false(text.includes(secret), `${file} holds a secret (${secret.slice(0, 3)}...)`);
  }

  const processes = join(p.data, 'secrets', 'processes');
  const privateFiles = await filesUnder(processes);
  t.deepEqual(privateFiles.map((f) => f.slice(processes.length + 1)).sort(), ['nginx/server.key', 'redis/requirepass.conf', 'registry/http_secret', 'registry/redis_password']);
  for (const file of privateFiles) {
    const info = await stat(file);
    t.is(info.mode & 0o777, 0o600, file);
    t.is(info.uid, 0, file);
    const folder = await stat(join(file, '..'));
    t.is(folder.mode & 0o777, 0o700, `${file}'s folder`);
  }
  t.is(await readFile(join(processes, 'registry', 'http_secret'), 'utf8'), JSON.stringify(secrets.at(-1)));
});
