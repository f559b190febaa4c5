// Opt-in (npm run test:token): the token-mode stack with a real docker_auth
// binary, which the default suite cannot have (no test builds fetched code).
// CORPUS_KIT_AUTH_SERVER names the auth_server binary; without it this test
// fails, saying so. Admin pushes and pulls through nginx, the read-only user
// pulls but is denied a push, an anonymous pull is refused.
import { existsSync } from 'node:fs';
import test from 'ava';
import { requireCommands } from '../helpers/prerequisites.ts';
import { digestOf, isAlive, READONLY_PASSWORD, stackProject, statusJson, trustCa, type StackProject } from '../helpers/stack.ts';

const AUTH_SERVER = process.env.CORPUS_KIT_AUTH_SERVER;
let project: StackProject | undefined;

test.after.always(async () => {
  await project?.cleanup();
});

test('token mode with docker_auth: admin pushes and pulls, readonly pulls but is denied a push, anonymous is refused', async (t) => {
  if (!AUTH_SERVER || !existsSync(AUTH_SERVER)) {
    throw new Error(`prerequisite missing: a docker_auth binary: set CORPUS_KIT_AUTH_SERVER to the path of auth_server (built by \`gulp compile --only auth_server\` into dist/bin/auth_server)${AUTH_SERVER ? `; ${AUTH_SERVER} does not exist` : ''}`);
  }
  requireCommands('docker', 'nginx', 'supervisord', 'redis-server', 'docker-registry', 'cron');
  const p = await stackProject();
  project = p;
  // docker asks the realm for tokens: it must name a host and port the daemon reaches (loopback).
  await p.setPillar({
    auth: { mode: 'token', token: { realm: `https://${p.registry}/docker_auth_service/auth` } },
    binaries: { registry: { path: '/usr/bin/docker-registry' }, auth_server: { path: AUTH_SERVER } },
  });
  t.is((await p.gulp(['ca'])).code, 0);
  const up = await p.up(['--detach']);
  t.is(up.code, 0, up.all);
  t.regex(up.stdout, /auth: token \(docker_auth/);
  await trustCa(p);

  const login = await p.docker(['login', '-u', 'admin', '--password-stdin', p.registry], await p.adminPassword());
  t.is(login.code, 0, login.stderr);
  const image = await p.importImage('corpus-token/first:1');
  const push = await p.docker(['push', image]);
  t.is(push.code, 0, push.stderr);
  t.is((await p.docker(['rmi', image])).code, 0);
  const pull = await p.docker(['pull', image]);
  t.is(pull.code, 0, pull.stderr);
  t.is(digestOf(pull.stdout), digestOf(push.stdout));

  t.is((await p.docker(['login', '-u', 'readonly', '--password-stdin', p.registry], READONLY_PASSWORD)).code, 0);
  t.is((await p.docker(['rmi', image])).code, 0);
  t.is((await p.docker(['pull', image])).code, 0);
  const other = await p.importImage('corpus-token/by-readonly:1');
  const denied = await p.docker(['push', other]);
  t.not(denied.code, 0);
  t.regex(denied.stderr, /denied/);

  const anonymous = await p.anonymousDocker(['pull', image]);
  t.not(anonymous.code, 0);

  const { status } = await statusJson(p);
  t.true(status.healthy);
  const pids = [status.supervisor.pid, ...status.processes.flatMap((s) => (s.pid ? [s.pid] : []))];
  t.true(status.processes.some((s) => s.name === 'auth_server' && s.state === 'RUNNING'));
  t.is((await p.gulp(['down'])).code, 0);
  t.deepEqual(pids.filter(isAlive), []);
});
