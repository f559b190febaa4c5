// The launcher against real processes on loopback: supervisord, nginx (TLS from
// `gulp ca`, htpasswd auth), Debian's docker-registry, redis, sshd, cron and the
// echo fixture plugin, with a real docker CLI pushing and pulling through nginx.
// The tests are serial and share one project.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { readlinkSync } from 'node:fs';
import { requireCommands } from './helpers/prerequisites.ts';
import { refuseMarker } from './fixtures/plugins/echo.ts';
import { freePort } from './helpers/render-project.ts';
import { allCommandLines, digestOf, foregroundUp, isAlive, NEW_USER_PASSWORD, READONLY_PASSWORD, stackProject, statusJson, trustCa, type StackProject } from './helpers/stack.ts';

requireCommands('docker', 'nginx', 'supervisord', 'redis-server', 'docker-registry');

const USERS = { admin: { password: null }, readonly: { password: { env: 'REGISTRY_READONLY_PASSWORD' } }, newuser: { password: { env: 'NEW_USER_PASSWORD' } } };
const ACL = [{ match: { account: 'admin' }, actions: ['*'] }, { match: { account: 'readonly' }, actions: ['pull'] }, { match: { account: 'newuser' }, actions: ['pull', 'push'] }];
/** The pillar after the reconfigure test: a new user, the echo route on another port. */
let reconfigured: object = {};

let project: StackProject;
const outputs: string[] = [];

/** GET through nginx's TLS listener, trusting the test CA. */
async function viaNginx(path: string, auth?: string): Promise<{ status: number; body: string }> {
  const ca = await readFile(join(project.data, 'ca', 'ca.crt'));
  return new Promise((resolve, reject) => {
    // A connection per request (agent: false): a kept-alive idle connection that the
    // server closes as the client reuses it is a client-side race (Go's client, as
    // docker's, retries then; node's does not), not a request nginx dropped.
    const req = request({ agent: false, host: '127.0.0.1', port: project.ports.https, path, ca, servername: 'localhost', headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function pushPullRoundTrip(t: import('ava').ExecutionContext, name: string): Promise<void> {
  const image = await project.importImage(name);
  const push = await project.docker(['push', image]);
  t.is(push.code, 0, push.stdout + push.stderr);
  const pushed = digestOf(push.stdout);
  t.truthy(pushed, push.stdout);
  t.is((await project.docker(['rmi', image])).code, 0);
  const pull = await project.docker(['pull', image]);
  t.is(pull.code, 0, pull.stdout + pull.stderr);
  t.is(digestOf(pull.stdout), pushed);
}

test.before(async () => {
  project = await stackProject();
});

test.after.always(async () => {
  await rm(refuseMarker(project.data), { force: true });
  await project?.cleanup();
});

test.serial('htpasswd + TLS from ca + redis under supervisord: up --detach is healthy; docker login, push, rmi, pull give the same digest; anonymous pull is refused', async (t) => {
  const ca = await project.gulp(['ca']);
  t.is(ca.code, 0, ca.all);
  const up = await project.up(['--detach']);
  outputs.push(up.all);
  t.is(up.code, 0, up.all);
  t.regex(up.stdout, /the stack is healthy \(supervisord pid \d+, 6 processes/);
  t.regex(up.stdout, new RegExp(`users: admin \\(password generated, stored in ${join(project.data, 'secrets', 'users.admin.password')}\\); readonly \\(password from the environment variable REGISTRY_READONLY_PASSWORD\\)`));
  t.regex(up.stdout, /auth: htpasswd/);
  t.truthy(project.supervisorPid());

  await trustCa(project);
  const login = await project.docker(['login', '-u', 'admin', '--password-stdin', project.registry], await project.adminPassword());
  t.is(login.code, 0, login.stderr);
  await pushPullRoundTrip(t, 'corpus-test/first:1');

  const anonymous = await project.anonymousDocker(['pull', `${project.registry}/corpus-test/first:1`]);
  t.not(anonymous.code, 0);
  // docker treats 127.0.0.0/8 as an insecure registry: after the 401 over TLS it
  // retries plain HTTP on the same port, which nginx refuses with a 400.
  t.regex(anonymous.stderr, /no basic auth credentials|unauthorized|plain HTTP request was sent to HTTPS port/);
  t.is((await viaNginx('/v2/corpus-test/first/manifests/1')).status, 401);
  const readonly = await viaNginx('/v2/corpus-test/first/manifests/1', `readonly:${READONLY_PASSWORD}`);
  t.is(readonly.status, 200);
});

test.serial('the registry and redis get their secrets at start, as nobody: the registry\'s environment holds http.secret and the redis password, redis refuses a client without it, and no file under etc/ holds either', async (t) => {
  const secret = async (name: string) => (await readFile(join(project.data, 'secrets', name), 'utf8')).trim();
  const [httpSecret, redisPassword] = [await secret('registry.http_secret'), await secret('redis.password')];
  const pids = new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]));
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  for (const name of ['registry', 'redis']) {
    const status = await readFile(`/proc/${pids.get(name)}/status`, 'utf8');
    t.is(Number(/^Uid:\s+(\d+)/m.exec(status)![1]), nobody, `${name} runs as nobody`);
  }
  const environ = (await readFile(`/proc/${pids.get('registry')}/environ`, 'utf8')).split('\0');
  t.true(environ.includes(`REGISTRY_HTTP_SECRET=${JSON.stringify(httpSecret)}`));
  t.true(environ.includes(`REGISTRY_REDIS_PASSWORD=${JSON.stringify(redisPassword)}`));
  const ping = (env: NodeJS.ProcessEnv) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(project.ports.redis), 'ping'], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
  t.regex(ping({}), /NOAUTH/);
  t.is(ping({ REDISCLI_AUTH: redisPassword }), 'PONG');
  // The registry uses redis with that password: its blob descriptors are cached there.
  t.regex(spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(project.ports.redis), '--scan'], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: redisPassword } }).stdout, /blobs::sha256:/);
  for (const entry of await readdir(`${join(project.data, 'etc')}/`, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
    t.false(text.includes(httpSecret) || text.includes(redisPassword), `${entry.name} holds a secret`);
  }
});

test.serial('status lists every process with state, pid, uptime and restarts, the health checks, and the plugin route answers through nginx', async (t) => {
  const status = await project.gulp(['status']);
  outputs.push(status.all);
  t.is(status.code, 0, status.all);
  for (const name of ['redis', 'registry', 'nginx', 'cron', 'sshd', 'echo']) t.regex(status.stdout, new RegExp(`^${name}\\s+RUNNING\\s+pid \\d+\\s+uptime \\d+s\\s+restarts 0$`, 'm'));
  for (const check of ['nginx GET /v2/: .*HTTP 401', 'registry /debug/health: .*HTTP 200', 'redis PING: PONG', 'route /echo/ \\(echo\\): .*HTTP 200']) t.regex(status.stdout, new RegExp(`^ok\\s+${check}`, 'm'));
  const echo = await viaNginx('/echo/hello');
  t.is(echo.status, 200);
  t.like(JSON.parse(echo.body), { echo: '/echo/', port: project.ports.echo, url: '/echo/hello' });
  const { status: json } = await statusJson(project);
  t.true(json.healthy);
  t.deepEqual(json.processes.map((p) => p.name).sort(), ['cron', 'echo', 'nginx', 'redis', 'registry', 'sshd']);
});

test.serial('SIGKILL to the registry: supervisord restarts it, a pull succeeds again within 10 s, the data pushed before is still there', async (t) => {
  const before = (await statusJson(project)).status.processes.find((p) => p.name === 'registry')!;
  const image = `${project.registry}/corpus-test/first:1`;
  t.is((await project.docker(['rmi', image])).code, 0);
  process.kill(before.pid!, 'SIGKILL');
  const killedAt = Date.now();
  let pulled = false;
  while (!pulled && Date.now() - killedAt < 10_000) {
    pulled = (await project.docker(['pull', image])).code === 0;
  }
  t.true(pulled, 'pull after SIGKILL');
  t.true(Date.now() - killedAt < 10_000, `pulled again after ${Date.now() - killedAt} ms`);
  const after = (await statusJson(project)).status.processes.find((p) => p.name === 'registry')!;
  t.not(after.pid, before.pid);
  t.is(after.restarts, 1);
});

test.serial('load: 50 pushes and pulls of distinct small images through nginx, at most 10 at a time, every digest verified', async (t) => {
  const COUNT = 50;
  const PARALLEL = 10;
  const started = Date.now();
  const errors: string[] = [];
  let verified = 0;
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const index = next++;
      const image = await project.importImage(`corpus-load/image-${index}:1`);
      const push = await project.docker(['push', image]);
      const pushed = digestOf(push.stdout);
      await project.docker(['rmi', image]);
      const pull = await project.docker(['pull', image]);
      if (push.code !== 0 || pull.code !== 0 || !pushed || digestOf(pull.stdout) !== pushed) errors.push(`${image}: push ${push.code} ${push.stderr.trim()} pull ${pull.code} ${pull.stderr.trim()} (${pushed} vs ${digestOf(pull.stdout)})`);
      else verified++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const seconds = (Date.now() - started) / 1000;
  t.log(`load: ${COUNT} images pushed and pulled through nginx (${PARALLEL} at a time), ${verified} digests verified, wall time ${seconds.toFixed(1)} s`);
  t.deepEqual(errors, []);
  t.is(verified, COUNT);
});

test.serial('a second up while running says so and starts nothing; reconfigure while a push loop runs: nginx reloads without a failed request, the new user logs in, unchanged processes keep their pids', async (t) => {
  const before = new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]));
  const again = await project.up(['--detach']);
  outputs.push(again.all);
  t.is(again.code, 0, again.all);
  t.regex(again.all, /already running \(supervisord pid \d+\); starting nothing/);
  t.regex(again.all, /nothing to do/);
  t.deepEqual(new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid])), before);

  // The loop: authenticated manifest reads and docker pushes, until told to stop.
  let running = true;
  const failures: string[] = [];
  let requests = 0;
  const password = await project.adminPassword();
  const readLoop = (async () => {
    while (running) {
      const answer = await viaNginx('/v2/corpus-test/first/manifests/1', `admin:${password}`).catch((error: Error) => ({ status: 0, body: error.message }));
      requests++;
      if (answer.status !== 200) failures.push(`GET ${answer.status} ${answer.body.slice(0, 200)}`);
    }
  })();
  const pushImage = await project.importImage('corpus-test/loop:1');
  const pushLoop = (async () => {
    while (running) {
      const push = await project.docker(['push', pushImage]);
      requests++;
      if (push.code !== 0) failures.push(`push: ${push.stderr}`);
    }
  })();

  const newEcho = await freePort();
  reconfigured = { users: USERS, acl: ACL, plugins_config: { echo: { port: newEcho } } };
  try {
    await project.setPillar(reconfigured);
    const reconfigure = await project.up(['--detach']);
    outputs.push(reconfigure.all);
    t.is(reconfigure.code, 0, reconfigure.all);
    t.regex(reconfigure.all, /supervisord update: echo restarted/);
    t.regex(reconfigure.all, /nginx reloaded/);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  } finally {
    // The loops end whatever happened above.
    running = false;
    await Promise.all([readLoop, pushLoop]);
  }
  t.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
  t.true(requests > 5);

  const after = new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]));
  for (const name of ['registry', 'redis', 'nginx', 'cron', 'sshd']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  t.not(after.get('echo'), before.get('echo'));
  const echo = await viaNginx('/echo/x');
  t.like(JSON.parse(echo.body), { port: newEcho });
  const login = await project.docker(['login', '-u', 'newuser', '--password-stdin', project.registry], NEW_USER_PASSWORD);
  t.is(login.code, 0, login.stderr);
  await pushPullRoundTrip(t, 'corpus-test/by-newuser:1');
  await project.docker(['login', '-u', 'admin', '--password-stdin', project.registry], password);
});

test.serial('a pillar that fails nginx -t changes nothing: the running stack keeps serving, untouched', async (t) => {
  const garbage = join(project.dir, 'not-a-certificate.pem');
  await writeFile(garbage, 'not a certificate\n');
  const installed = readlinkSync(join(project.data, 'etc'));
  const before = (await statusJson(project)).status.processes.map((p) => [p.name, p.pid]);
  await project.setPillar({ ...reconfigured, tls: { cert: { file: garbage }, key: { file: garbage } } });
  const reconfigure = await project.gulp(['reconfigure']);
  outputs.push(reconfigure.all);
  t.not(reconfigure.code, 0);
  t.regex(reconfigure.all, /nginx -t/);
  t.is(readlinkSync(join(project.data, 'etc')), installed);
  t.deepEqual((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]), before);
  const image = `${project.registry}/corpus-test/first:1`;
  await project.docker(['rmi', image]);
  t.is((await project.docker(['pull', image])).code, 0);
  await project.setPillar(reconfigured);
});

test.serial('reconfigure with a new registry.http_secret: only the registry restarts, with the new secret in its environment; etc/ is untouched; a change a render alone made is applied by the next reconfigure', async (t) => {
  const installed = readlinkSync(join(project.data, 'etc'));
  const before = new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]));
  await project.setPillar({ ...reconfigured, registry: { port: project.ports.registry, debug_addr: `127.0.0.1:${project.ports.debug}`, http_secret: 'a-new-http-secret-for-reconfigure' } });
  const reconfigure = await project.gulp(['reconfigure']);
  outputs.push(reconfigure.all);
  t.is(reconfigure.code, 0, reconfigure.all);
  t.regex(reconfigure.all, /registry restarted \(its configuration changed\)/);
  t.is(readlinkSync(join(project.data, 'etc')), installed, reconfigure.all);
  const after = new Map((await statusJson(project)).status.processes.map((p) => [p.name, p.pid]));
  t.not(after.get('registry'), before.get('registry'));
  for (const name of ['redis', 'nginx', 'cron', 'sshd', 'echo']) t.is(after.get(name), before.get(name), `${name} kept its pid`);
  const environ = (await readFile(`/proc/${after.get('registry')}/environ`, 'utf8')).split('\0');
  t.true(environ.includes('REGISTRY_HTTP_SECRET="a-new-http-secret-for-reconfigure"'));
  // The render reconfigure ran left nginx's temp folder and redis's folder to the service user (large pushes, redis saves).
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  for (const dir of [join(project.data, 'run', 'nginx'), join(project.data, 'redis')]) t.is((await stat(dir)).uid, nobody, dir);
  // A change a reconfigure did not make (a `gulp render` alone while the stack runs) is applied by the next one.
  await project.setPillar(reconfigured);
  const render = await project.gulp(['render']);
  t.is(render.code, 0, render.all);
  const rendered = await project.gulp(['reconfigure']);
  outputs.push(rendered.all);
  t.is(rendered.code, 0, rendered.all);
  t.regex(rendered.all, /registry restarted \(a file it reads at start changed after it started\)/);
  const restored = (await statusJson(project)).status.processes.find((p) => p.name === 'registry')!.pid;
  const back = (await readFile(`/proc/${restored}/environ`, 'utf8')).split('\0').find((v) => v.startsWith('REGISTRY_HTTP_SECRET='));
  t.is(back, `REGISTRY_HTTP_SECRET=${JSON.stringify((await readFile(join(project.data, 'secrets', 'registry.http_secret'), 'utf8')).trim())}`);
  const quiet = await project.gulp(['reconfigure']);
  t.regex(quiet.all, /the configuration did not change; nothing to do/);
});

test.serial('a process that keeps dying is restarted with back-off, then reported FATAL by status with its last log lines', async (t) => {
  const die = await viaNginx('/echo/die');
  t.is(die.status, 200);
  let fatal = false;
  for (let i = 0; i < 60 && !fatal; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    fatal = (await statusJson(project)).status.processes.some((p) => p.name === 'echo' && p.state === 'FATAL');
  }
  t.true(fatal, 'echo FATAL');
  const status = await project.gulp(['status']);
  outputs.push(status.all);
  t.not(status.code, 0);
  t.regex(status.stdout, /^echo\s+FATAL\s+.*restarts [1-9]/m);
  t.regex(status.stdout, /echo FATAL:\n\s+last lines of .*echo\.log:\n(.*\n)*\s+echo: refusing to start: \S+\.refuse exists/);
  t.regex(status.all, /status: unhealthy: process echo/);
});

test.serial('down stops every process through supervisord within stopwaitsecs, without reading a secret; no pid of the stack survives', async (t) => {
  const { status } = await statusJson(project);
  const pids = [status.supervisor.pid, ...status.processes.flatMap((p) => (p.pid ? [p.pid] : []))];
  const started = Date.now();
  // down reads no secret: it works in a shell where the passwords' variables are not set.
  const down = await project.gulp(['down'], { REGISTRY_READONLY_PASSWORD: '', NEW_USER_PASSWORD: '' });
  outputs.push(down.all);
  t.is(down.code, 0, down.all);
  t.regex(down.stdout + down.stderr, /nothing left running/);
  t.true(Date.now() - started < (10 + 2) * 1000 + 5000, `down took ${Date.now() - started} ms`);
  t.deepEqual(pids.filter(isAlive), []);
});

test.serial('up on a stack that cannot become healthy names the failing process with its last log lines, stops everything it started, exits non-zero', async (t) => {
  // The marker left by the previous test: echo refuses to start.
  const up = await project.up(['--detach']);
  outputs.push(up.all);
  t.not(up.code, 0);
  t.regex(up.all, /the stack did not become healthy within \d+s; every process started was stopped:\n\s+- process echo: FATAL/);
  t.regex(up.all, /last lines of .*echo\.log:\n(.*\n)*\s+echo: refusing to start/);
  t.is(project.supervisorPid(), undefined);
  const logged = await readFile(join(project.data, 'log', 'supervisord.log'), 'utf8');
  const spawned = [...logged.slice(logged.lastIndexOf('supervisord started with pid')).matchAll(/spawned: '[^']+' with pid (\d+)/g)].map((m) => Number(m[1]));
  t.true(spawned.length >= 6);
  t.deepEqual(spawned.filter(isAlive), []);
});

test.serial('SIGTERM to a foreground up: every process is gone and up exits 0 within the largest stopwaitsecs + 2 s', async (t) => {
  await rm(refuseMarker(project.data), { force: true });
  const up = await foregroundUp(project);
  const { status } = await statusJson(project);
  t.true(status.healthy);
  const pids = [status.supervisor.pid, ...status.processes.flatMap((p) => (p.pid ? [p.pid] : []))];
  const signalled = Date.now();
  up.child.kill('SIGTERM');
  const code = await up.exited;
  const took = Date.now() - signalled;
  outputs.push(up.output());
  t.is(code, 0, up.output());
  t.true(took < (10 + 2) * 1000, `exited ${took} ms after SIGTERM`);
  t.deepEqual(pids.filter(isAlive), []);
  t.regex(up.output(), /stopped \(7 processes, nothing left running\)/);
});

test.serial('no password, secret or key appears in any output, in the supervisor log, or in the process list', async (t) => {
  const secrets = await Promise.all(['users.admin.password', 'redis.password', 'registry.http_secret'].map(async (name) => (await readFile(join(project.data, 'secrets', name), 'utf8')).trim()));
  secrets.push(READONLY_PASSWORD, NEW_USER_PASSWORD);
  const up = await foregroundUp(project);
  const processes = allCommandLines();
  // At once after the summary: up listens for the signal from before it starts the supervisor.
  up.child.kill('SIGTERM');
  t.is(await up.exited, 0);
  outputs.push(up.output());
  const supervisorLog = await readFile(join(project.data, 'log', 'supervisord.log'), 'utf8');
  for (const secret of secrets) {
    t.true(secret.length >= 12);
    for (const [where, text] of [['outputs', outputs.join('\n')], ['supervisord.log', supervisorLog], ['/proc/*/cmdline', processes]] as const) {
      t.false(text.includes(secret), `a secret appears in ${where}`);
    }
  }
  t.true(outputs.length > 0 && processes.length > 0);
});

test.serial('the same flow under circus: up --detach is healthy; login, push, rmi, pull give the same digest; anonymous pull is refused; down leaves nothing', async (t) => {
  requireCommands('circusd', 'circusctl');
  await project.setPillar({ ...reconfigured, supervisor: 'circus' });
  const up = await project.up(['--detach']);
  t.is(up.code, 0, up.all);
  t.regex(up.stdout, /the stack is healthy \(circus pid \d+, 6 processes/);
  const login = await project.docker(['login', '-u', 'admin', '--password-stdin', project.registry], await project.adminPassword());
  t.is(login.code, 0, login.stderr);
  await pushPullRoundTrip(t, 'corpus-test/under-circus:1');
  const anonymous = await project.anonymousDocker(['pull', `${project.registry}/corpus-test/under-circus:1`]);
  t.not(anonymous.code, 0);
  const { status } = await statusJson(project);
  t.true(status.healthy);
  t.is(status.supervisor.kind, 'circus');
  for (const p of status.processes) t.is(p.state, 'RUNNING', p.name);
  const pids = [status.supervisor.pid, ...status.processes.flatMap((p) => (p.pid ? [p.pid] : []))];
  t.is(pids.length, 7);
  const down = await project.gulp(['down']);
  t.is(down.code, 0, down.all);
  t.deepEqual(pids.filter(isAlive), []);
});
