// gulp ca && gulp render, then the real programs on the installed files: nginx -t,
// supervisord's loader, sshd -t, redis-server refusing a client without the
// password, and Debian's docker-registry behind the rendered nginx: htpasswd
// mode (401, then 200 for the right user, the acl enforced by nginx) and token
// mode (the Bearer challenge naming docker_auth's realm).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { SUPERVISOR_LOADER, SYSTEM_PYTHON } from '../tasks/render/validate.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { READONLY_PASSWORD, renderProject, type RenderProject } from './helpers/render-project.ts';
import { start, waitFor } from './helpers/render-stack.ts';

const REGISTRY = '/usr/bin/docker-registry';

async function rendered(t: Parameters<typeof renderProject>[0], extra: object): Promise<RenderProject> {
  requireCommands('nginx', 'supervisord', 'redis-server', 'docker-registry', 'openssl', '/usr/sbin/sshd', SYSTEM_PYTHON);
  const p = await renderProject(t, { binaries: { registry: { path: REGISTRY } }, ...extra });
  // nginx's workers run as nobody: they must reach the htpasswd file under the test directory.
  await chmod(p.dir, 0o755);
  const { error, all } = await p.run(['ca', 'render']);
  t.is(error, undefined, all);
  await asUpLeavesThem(p);
  return p;
}

/** The folders as `up` prepares them before it starts anything (prepareDataRoot): the services run as nobody. */
async function asUpLeavesThem(p: RenderProject): Promise<void> {
  const [nobody, nogroup] = [Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }))];
  for (const [dir, uid] of [[join(p.data, 'ca'), 0], [join(p.data, 'images'), nobody], [join(p.data, 'redis'), nobody]] as const) {
    await mkdir(dir, { recursive: true });
    await chown(dir, uid, nogroup);
    await chmod(dir, 0o750);
  }
}

/** Each program's argv as supervisord reads it from the installed supervisord.conf. */
type Programs = Record<string, { argv: string[] }>;

function installedChecks(t: Parameters<typeof renderProject>[0], p: RenderProject): Programs {
  const nginx = spawnSync('nginx', ['-t', '-c', join(p.etc, 'nginx', 'nginx.conf'), '-e', join(p.data, 'log', 'nginx-error.log')], { encoding: 'utf8' });
  t.is(nginx.status, 0, nginx.stderr);
  const supervisor = spawnSync(SYSTEM_PYTHON, ['-c', SUPERVISOR_LOADER, join(p.etc, 'supervisor', 'supervisord.conf')], { encoding: 'utf8' });
  t.is(supervisor.status, 0, supervisor.stderr);
  const programs = JSON.parse(supervisor.stdout) as Programs;
  // Started through the wrapper that gives it its secrets, as nobody; the secret itself is on no command line.
  t.deepEqual(programs.registry!.argv.slice(-3), [REGISTRY, 'serve', join(p.etc, 'registry', 'config.yml')]);
  t.deepEqual(programs.registry!.argv.slice(0, 4), ['/bin/sh', join(p.etc, 'supervisor', 'with-secrets.sh'), join(p.data, 'secrets', 'processes'), 'nobody']);
  const sshd = spawnSync('/usr/sbin/sshd', ['-t', '-f', join(p.etc, 'ssh', 'sshd_config')], { encoding: 'utf8' });
  t.is(sshd.status, 0, sshd.stderr);
  return programs;
}

/** Starts a program as the supervisor would (argv from supervisord.conf); as root, the wrapper drops it to nobody. */
function startProgram(t: Parameters<typeof renderProject>[0], programs: Programs, name: string) {
  const [command, ...args] = programs[name]!.argv;
  return start(t, command!, args);
}

/** The real user and the environment of a running process (read as root from /proc). */
async function processInfo(pid: number): Promise<{ uid: number; environ: string[] }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), environ: (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0') };
}

/** A password redis.conf and the registry's YAML-parsed environment would both misread unescaped. */
const TRICKY_REDIS_PASSWORD = 'pass: word # "quoted" \\ 123';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('htpasswd mode: nginx -t, supervisord, sshd -t accept the files; redis wants its password; the registry answers 401, then 200 for the right user, with the acl enforced', async (t) => {
  // First match wins: readonly's pull-only entry comes before the entry that lets anyone push to library/*.
  const p = await rendered(t, { redis: { password: TRICKY_REDIS_PASSWORD }, auth: { mode: 'htpasswd' }, acl: [{ match: { account: 'admin' }, actions: ['*'] }, { match: { account: 'readonly', name: 'library/*' }, actions: ['pull'] }, { match: { name: 'library/*' }, actions: ['*'] }] });
  const programs = installedChecks(t, p);

  const redisPassword = TRICKY_REDIS_PASSWORD;
  const httpSecret = (await readFile(join(p.data, 'secrets', 'registry.http_secret'), 'utf8')).trim();
  const redis = startProgram(t, programs, 'redis');
  const ping = async (env: NodeJS.ProcessEnv = {}) => {
    for (let i = 0; i < 50; i++) {
      const out = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(p.ports.redis), 'ping'], { encoding: 'utf8', env: { ...process.env, ...env } });
      if (!/Connection refused/.test(out.stdout + out.stderr)) return out.stdout.trim();
      await new Promise((r) => setTimeout(r, 100));
    }
    return `redis did not start: ${redis.output()}`;
  };
  t.regex(await ping(), /NOAUTH/);
  t.is(await ping({ REDISCLI_AUTH: redisPassword }), 'PONG');

  const registry = startProgram(t, programs, 'registry');
  const nginx = start(t, 'nginx', ['-c', join(p.etc, 'nginx', 'nginx.conf'), '-e', join(p.data, 'log', 'nginx-error.log')]);
  const base = `http://127.0.0.1:${p.ports.http}`;
  await waitFor(`http://127.0.0.1:${p.ports.registry}/v2/`, registry.output);
  await waitFor(`${base}/v2/`, nginx.output);
  // The wrapper exec'd the programs as nobody, the registry with its secrets in its environment only.
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const registryProcess = await processInfo(registry.pid!);
  t.is(registryProcess.uid, nobody);
  // Each value as YAML reads it back (the registry parses its overrides as YAML).
  t.true(registryProcess.environ.includes(`REGISTRY_HTTP_SECRET=${JSON.stringify(httpSecret)}`));
  t.true(registryProcess.environ.includes(`REGISTRY_REDIS_PASSWORD=${JSON.stringify(redisPassword)}`));
  t.is((await processInfo(redis.pid!)).uid, nobody);
  t.notRegex(registry.output(), /No HTTP secret provided/);

  const anonymous = await fetch(`${base}/v2/`);
  t.is(anonymous.status, 401);
  t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  t.is(anonymous.headers.get('docker-distribution-api-version'), 'registry/2.0');
  t.is((await anonymous.json() as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');
  // Anonymous on a repository path: the challenge, not a 403.
  t.is((await fetch(`${base}/v2/library/x/tags/list`)).status, 401);

  const admin = (await readFile(join(p.data, 'secrets', 'users.admin.password'), 'utf8')).trim();
  t.is((await fetch(`${base}/v2/`, { headers: basic('admin', 'wrong-password') })).status, 401);
  const ok = await fetch(`${base}/v2/`, { headers: basic('admin', admin) });
  t.is(ok.status, 200, await ok.text());
  t.is(ok.headers.get('docker-distribution-api-version'), 'registry/2.0');
  t.is((await fetch(`${base}/v2/`, { headers: basic('readonly', READONLY_PASSWORD) })).status, 200);
  // admin may push anywhere; readonly may pull library/* only, and never push.
  t.is((await fetch(`${base}/v2/any/thing/blobs/uploads/`, { method: 'POST', headers: basic('admin', admin) })).status, 202);
  // A blob pushed (start, then one PUT): the registry caches its descriptor in redis, so it reached redis with that password.
  const blob = Buffer.from('a blob for the redis cache\n');
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const started = await fetch(`${base}/v2/any/thing/blobs/uploads/`, { method: 'POST', headers: basic('admin', admin) });
  const location = new URL(started.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const upload = await fetch(location, { method: 'PUT', headers: { ...basic('admin', admin), 'content-type': 'application/octet-stream' }, body: blob });
  t.is(upload.status, 201, await upload.text());
  const keys = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(p.ports.redis), '--scan'], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: redisPassword } });
  t.true(keys.stdout.includes(digest), `redis keys: ${keys.stdout}${keys.stderr}`);
  t.is((await fetch(`${base}/v2/library/x/tags/list`, { headers: basic('readonly', READONLY_PASSWORD) })).status, 404); // allowed through: the registry has no such repository
  const push = await fetch(`${base}/v2/library/x/blobs/uploads/`, { method: 'POST', headers: basic('readonly', READONLY_PASSWORD) });
  t.is(push.status, 403);
  t.is((await push.json() as { errors: { code: string }[] }).errors[0]!.code, 'DENIED');
  t.is((await fetch(`${base}/v2/other/x/tags/list`, { headers: basic('readonly', READONLY_PASSWORD) })).status, 403);
});

test('token mode: the registry behind nginx challenges with docker_auth\'s realm, and auth.yml agrees with config.yml', async (t) => {
  const p = await rendered(t, {});
  const programs = installedChecks(t, p);
  const config = parse(await readFile(join(p.etc, 'registry', 'config.yml'), 'utf8'));
  const auth = parse(await readFile(join(p.etc, 'docker_auth', 'auth.yml'), 'utf8'));
  t.is(auth.token.issuer, config.auth.token.issuer);
  t.is(auth.token.certificate, config.auth.token.rootcertbundle);
  t.is(dirname(auth.token.certificate), join(p.data, 'ca'));
  t.is(auth.server.path_prefix, '/docker_auth_service');
  t.deepEqual(auth.acl.at(-1), { match: { account: 'readonly' }, actions: ['pull'] });
  for (const [user, entry] of Object.entries(auth.users as Record<string, { password: string }>)) t.regex(entry.password, /^\$2[aby]\$1\d\$/, user);
  // The token certificate matches the token key that signs.
  const pub = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });
  t.is(pub(['x509', '-noout', '-pubkey', '-in', auth.token.certificate]), pub(['pkey', '-pubout', '-in', auth.token.key]));

  const registry = startProgram(t, programs, 'registry');
  const nginx = start(t, 'nginx', ['-c', join(p.etc, 'nginx', 'nginx.conf'), '-e', join(p.data, 'log', 'nginx-error.log')]);
  await waitFor(`http://127.0.0.1:${p.ports.registry}/v2/`, registry.output);
  await waitFor(`http://127.0.0.1:${p.ports.http}/v2/`, nginx.output);
  const answer = await fetch(`http://127.0.0.1:${p.ports.http}/v2/`);
  t.is(answer.status, 401);
  t.is(answer.headers.get('www-authenticate'), 'Bearer realm="https://registry.example.com/docker_auth_service/auth",service="registry.example.com"');
  // Everything no other route claims goes to the registry: its own 404, not nginx's page.
  const elsewhere = await fetch(`http://127.0.0.1:${p.ports.http}/not/a/route`);
  t.is(elsewhere.status, 404);
  t.is(await elsewhere.text(), '404 page not found\n');
  // Over HTTPS too, with the `ca` task's certificate for localhost.
  const https = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', join(p.data, 'ca', 'ca.crt'), `https://localhost:${p.ports.https}/v2/`], { encoding: 'utf8' });
  t.is(https.stdout, '401', https.stderr);
});
