// gulp ca against the real openssl CLI: a CA, a server certificate every name
// of the pillar (and localhost, 127.0.0.1, ::1) verifies against, the token key
// pair; kept when valid, reissued when the names change, started over on --force.
import { execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { requireCommands } from './helpers/prerequisites.ts';
import { renderProject } from './helpers/render-project.ts';

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('ca issues a server certificate that openssl verifies against the CA for every name', async (t) => {
  requireCommands('openssl');
  const p = await renderProject(t);
  const { error, all } = await p.run(['ca']);
  t.is(error, undefined, all);
  const ca = join(p.data, 'ca');
  t.regex(openssl('verify', '-CAfile', join(ca, 'ca.crt'), join(ca, 'server.crt')), /server\.crt: OK/);
  for (const host of ['registry.example.com', 'registry.test', 'alias.example.org', 'localhost']) {
    t.regex(openssl('x509', '-noout', '-checkhost', host, '-in', join(ca, 'server.crt')), /does match/, host);
  }
  for (const ip of ['127.0.0.1', '::1']) t.regex(openssl('x509', '-noout', '-checkip', ip, '-in', join(ca, 'server.crt')), /does match/, ip);
  t.notRegex(openssl('x509', '-noout', '-checkhost', 'other.example.com', '-in', join(ca, 'server.crt')), /does match/);
  for (const key of ['ca.key', 'server.key', 'token.key']) t.is((await stat(join(ca, key))).mode & 0o777, 0o600, key);
  // docker_auth runs as the service user (nobody here) and signs with the token key.
  t.is((await stat(join(ca, 'token.key'))).uid, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })));
  t.is((await stat(join(ca, 'ca.key'))).uid, 0);
  // No key material in the output.
  for (const key of ['ca.key', 'server.key', 'token.key']) {
    const body = (await readFile(join(ca, key), 'utf8')).split('\n')[1]!;
    t.false(all.includes(body), key);
  }
});

test('ca is idempotent, reissues the server certificate when the names change, and starts over with --force', async (t) => {
  requireCommands('openssl');
  const p = await renderProject(t);
  t.is((await p.run(['ca'])).error, undefined);
  const ca = join(p.data, 'ca');
  const read = async () => Object.fromEntries(await Promise.all(['ca.crt', 'server.crt', 'token.crt'].map(async (f) => [f, await readFile(join(ca, f), 'utf8')])));
  const first = await read();

  const again = await p.run(['ca']);
  t.deepEqual(await read(), first);
  t.regex(again.err, /CA kept/);
  t.regex(again.err, /server certificate kept/);

  await p.setPillar({ server_aliases: ['registry.test', 'new.example.net'] });
  const renamed = await p.run(['ca']);
  t.regex(renamed.err, /server certificate issued \(the names changed\)/);
  const second = await read();
  t.is(second['ca.crt'], first['ca.crt']);
  t.is(second['token.crt'], first['token.crt']);
  t.not(second['server.crt'], first['server.crt']);
  t.regex(openssl('x509', '-noout', '-checkhost', 'new.example.net', '-in', join(ca, 'server.crt')), /does match/);
  t.notRegex(openssl('x509', '-noout', '-checkhost', 'alias.example.org', '-in', join(ca, 'server.crt')), /does match/);

  t.is((await p.run(['ca'], ['--force'])).error, undefined);
  const forced = await read();
  for (const file of ['ca.crt', 'server.crt', 'token.crt']) t.not(forced[file], second[file], file);
  t.regex(openssl('verify', '-CAfile', join(ca, 'ca.crt'), join(ca, 'server.crt')), /OK/);
});

test('ca reissues a server certificate that expires within 30 days', async (t) => {
  requireCommands('openssl');
  const p = await renderProject(t);
  t.is((await p.run(['ca'])).error, undefined);
  const ca = join(p.data, 'ca');
  // A certificate for the same names that expires in 10 days, signed by the same CA.
  execFileSync('openssl', ['req', '-x509', '-new', '-key', join(ca, 'server.key'), '-out', join(ca, 'server.crt'), '-days', '10', '-subj', '/CN=registry.example.com',
    '-CA', join(ca, 'ca.crt'), '-CAkey', join(ca, 'ca.key'), '-addext', 'subjectAltName=DNS:registry.example.com,DNS:registry.test,DNS:alias.example.org,DNS:localhost,IP:127.0.0.1,IP:::1'], { stdio: 'ignore' });
  const { err } = await p.run(['ca']);
  t.regex(err, /server certificate issued \(missing, expiring within 30 days/);
  t.regex(openssl('x509', '-noout', '-checkend', String(300 * 86400), '-in', join(ca, 'server.crt')), /will not expire/);
});
