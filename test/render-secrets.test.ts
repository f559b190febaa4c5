// No generated password, redis password, http.secret or private key appears in
// what ca, render (also --dry-run and a failing render) or pillar:show print,
// with --verbose; the files that hold them are 0640 or stricter.
import { readFile, stat } from 'node:fs/promises';
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

  for (const file of ['nginx/htpasswd', 'redis/redis.conf', 'registry/config.yml']) {
    t.is((await stat(join(p.etc, file))).mode & 0o137, 0, `${file} is 0640 or stricter`);
  }
  t.is((await stat(join(p.etc, 'nginx'))).mode & 0o777, 0o750);
});
