// Token mode without a docker_auth binary (none can be built in the tests; the
// opt-in test/opt-in/token-stack.test.ts runs the full flow with one): the real
// registry and nginx from the rendered token-mode configuration. The Bearer
// challenge through nginx names the pillar's realm and service; the registry
// and docker_auth files agree on issuer, service and certificate; and a token
// signed as docker_auth signs it (ES256 with token.key, the libtrust key id of
// token.crt, iss/aud from the pillar) opens the registry, while one signed by
// another key or naming another issuer does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { requireCommands } from './helpers/prerequisites.ts';
import { renderProject, type RenderProject } from './helpers/render-project.ts';

requireCommands('nginx', 'docker-registry', 'openssl');

/** libtrust's key id: the SHA-256 of the DER public key, 240 bits, base32, in groups of four. */
function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  const base32 = bits.match(/.{5}/g)!.map((b) => alphabet[parseInt(b, 2)]).join('');
  return base32.match(/.{4}/g)!.join(':');
}

const b64url = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** A token as docker_auth issues it. */
function token(key: KeyObject, kid: string, claims: { iss: string; aud: string; repository: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ typ: 'JWT', alg: 'ES256', kid });
  const payload = b64url({ iss: claims.iss, sub: 'admin', aud: claims.aud, exp: now + 300, nbf: now - 10, iat: now, jti: `${now}-${Math.random()}`, access: [{ type: 'repository', name: claims.repository, actions: ['pull', 'push'] }] });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64url(signature)}`;
}

function get(p: RenderProject, path: string, ca: Buffer, bearer?: string): Promise<{ status: number; challenge?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p.ports.https, path, ca, servername: 'localhost', headers: bearer ? { Authorization: `Bearer ${bearer}` } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, challenge: res.headers['www-authenticate'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function start(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { detached: true, stdio: 'ignore' });
}

test('token mode: the registry behind nginx challenges with the pillar realm and service, and accepts exactly the tokens docker_auth would sign', async (t) => {
  const p = await renderProject(t, { auth: { mode: 'token' }, registry: { redis: false }, binaries: { registry: { path: '/usr/bin/docker-registry' } } });
  // nginx's workers (nobody) read the error pages under data_root.
  await chmod(p.dir, 0o755);
  const rendered = await p.run(['ca', 'render']);
  t.is(rendered.error, undefined, rendered.all);

  const registryConfig = parse(await readFile(join(p.etc, 'registry', 'config.yml'), 'utf8')) as { auth: { token: Record<string, string> } };
  const authConfig = parse(await readFile(join(p.etc, 'docker_auth', 'auth.yml'), 'utf8')) as { token: Record<string, string>; server: { addr: string; path_prefix: string } };
  const realm = `https://registry.example.com/docker_auth_service/auth`;
  t.deepEqual(registryConfig.auth.token, { realm, service: 'registry.example.com', issuer: 'registry.example.com', rootcertbundle: join(p.data, 'ca', 'token.crt') });
  t.is(authConfig.token.issuer, registryConfig.auth.token.issuer);
  t.is(authConfig.token.certificate, registryConfig.auth.token.rootcertbundle);
  t.true(new X509Certificate(await readFile(authConfig.token.certificate!)).checkPrivateKey(createPrivateKey(await readFile(authConfig.token.key!))));
  t.is(authConfig.server.addr, `127.0.0.1:${p.ports.auth}`);
  t.true(new URL(realm).pathname.startsWith(`${authConfig.server.path_prefix}/`));
  const nginxConf = await readFile(join(p.etc, 'nginx', 'nginx.conf'), 'utf8');
  t.regex(nginxConf, new RegExp(`location /docker_auth_service/ \\{[^}]*proxy_pass http://127\\.0\\.0\\.1:${p.ports.auth};`));

  const registry = start('/usr/bin/docker-registry', ['serve', join(p.etc, 'registry', 'config.yml')]);
  const nginx = start('/usr/sbin/nginx', ['-c', join(p.etc, 'nginx', 'nginx.conf')]);
  t.teardown(() => {
    for (const child of [nginx, registry]) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const ca = await readFile(join(p.data, 'ca', 'ca.crt'));
  let challenge = await get(p, '/v2/', ca).catch(() => undefined);
  for (let i = 0; i < 60 && challenge?.status !== 401; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    challenge = await get(p, '/v2/', ca).catch(() => undefined);
  }
  t.is(challenge?.status, 401);
  t.is(challenge?.challenge, `Bearer realm="${realm}",service="registry.example.com"`);
  const scoped = await get(p, '/v2/corpus/x/manifests/1', ca);
  t.is(scoped.challenge, `Bearer realm="${realm}",service="registry.example.com",scope="repository:corpus/x:pull"`);

  const tokenKey = createPrivateKey(await readFile(join(p.data, 'ca', 'token.key')));
  const kid = libtrustKeyId(createPublicKey(await readFile(join(p.data, 'ca', 'token.crt'))));
  const claims = { iss: 'registry.example.com', aud: 'registry.example.com', repository: 'corpus/x' };
  const accepted = await get(p, '/v2/corpus/x/tags/list', ca, token(tokenKey, kid, claims));
  t.is(accepted.status, 404, accepted.body);
  t.regex(accepted.body, /NAME_UNKNOWN/);
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  t.is((await get(p, '/v2/corpus/x/tags/list', ca, token(stranger, kid, claims))).status, 401);
  t.is((await get(p, '/v2/corpus/x/tags/list', ca, token(tokenKey, kid, { ...claims, iss: 'someone-else' }))).status, 401);
  t.is((await get(p, '/v2/corpus/x/tags/list', ca, token(tokenKey, kid, { ...claims, aud: 'another-service' }))).status, 401);
});
