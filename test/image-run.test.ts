// image:run --detach against the real dockerd, on --network host with test
// ports on loopback: the container becomes healthy, a real docker client pushes
// and pulls through its nginx (htpasswd mode, Debian's registry binary in the
// release), anonymous access is refused, docker stop ends it with exit code 0
// within the stop timeout, and a new container on the same data folder serves
// the pushed image with the same generated passwords.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { STOP_TIMEOUT_S } from '../tasks/image-run.ts';
import { containerProcesses, containerUser, docker, healthy, notRunningAs } from './helpers/image-container.ts';
import { imageProject } from './helpers/image-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { freePort } from './helpers/render-project.ts';
import { tempDir } from './helpers/tmp.ts';

test('image:run --detach: healthy, push and pull through nginx with the generated password, anonymous refused, docker stop exits 0, a new container on the same data keeps images and passwords', async (t) => {
  t.timeout(40 * 60_000, 'builds the image, then starts the stack twice');
  requireCommands('curl');
  const ports = { http: await freePort(), https: await freePort(), registry: await freePort(), debug: await freePort(), redis: await freePort(), sshd: await freePort() };
  const id = Math.random().toString(36).slice(2, 8);
  const name = `ckr${id}`;
  const dataRoot = `/srv/projects/${name}/data`;
  const project = await imageProject(t, {
    project: name,
    data_root: dataRoot,
    ports: { http: ports.http, https: ports.https },
    registry: { port: ports.registry, debug_addr: `127.0.0.1:${ports.debug}` },
    redis: { port: ports.redis },
    sshd: { host: '127.0.0.1', port: ports.sshd },
    users: { admin: { password: null }, readonly: { password: null } },
  });
  const volume = join(project.dir, 'volume');
  await project.setPillar({ image: { name: project.name, dev_tag: 'dev', run: { data: volume, network: 'host', restart: 'unless-stopped' } } });
  t.teardown(() => void docker(['rm', '--force', name]));
  const built = await project.run('image:build');
  t.is(built.error, undefined, built.all);

  const started = await project.run('image:run', ['--detach']);
  t.is(started.error, undefined, started.all);
  const state = await healthy(name);
  t.is(state, 'running healthy', docker(['logs', '--tail', '60', name]).out);
  t.is(docker(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.NetworkMode}}', name]).out, 'unless-stopped host');
  // The services run as the pillar's user (default: registry), not root, where the program allows it: every
  // uid and gid of the process (real, effective, saved, fs), read from /proc in the container, by program name.
  const service = containerUser(name, 'registry');
  const processes = containerProcesses(name);
  const named = (comm: string) => processes.filter((p) => p.comm === comm);
  const nginx = named('nginx');
  const masters = nginx.filter((p) => p.args.startsWith('nginx: master'));
  // nginx's master stays root (it binds the ports and reads the TLS key); it is the only root nginx.
  t.is(masters.length, 1, nginx.map((p) => p.args).join('\n'));
  t.deepEqual(notRunningAs(masters, { uid: 0, gid: 0 }), [], 'the nginx master');
  for (const [what, list] of [['the registry', named('registry')], ['redis', named('redis-server')], ['nginx workers', nginx.filter((p) => !masters.includes(p))]] as const) {
    t.true(list.length > 0, `${what} runs: ${processes.map((p) => p.args).join('\n')}`);
    t.deepEqual(notRunningAs(list, service), [], `${what} runs as registry (uid ${service.uid}, gid ${service.gid})`);
  }

  const registry = `127.0.0.1:${ports.http}`;
  const anonymous = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${registry}/v2/`], { encoding: 'utf8' });
  t.is(anonymous.stdout, '401', 'anonymous access is refused');

  const password = (await readFile(join(volume, 'secrets', 'users.admin.password'), 'utf8')).trim();
  const config = await tempDir(t, 'corpus-kit-docker-config-');
  const client = { DOCKER_CONFIG: config };
  const login = docker(['login', registry, '--username', 'admin', '--password-stdin'], client, password);
  t.is(login.code, 0, login.out);
  // A one-file image made here: nothing is pulled from anywhere.
  const ref = `${registry}/test/${name}:1`;
  const scratch = await tempDir(t, 'corpus-kit-scratch-');
  execFileSync('sh', ['-c', 'echo hello > "$1/hello" && tar -C "$1" -c hello | docker import - "$2"', 'sh', scratch, ref], { stdio: 'ignore' });
  t.teardown(() => void docker(['image', 'rm', '--force', ref]));
  const push = docker(['push', ref], client);
  t.is(push.code, 0, push.out);
  docker(['image', 'rm', ref]);
  const pull = docker(['pull', ref], client);
  t.is(pull.code, 0, pull.out);

  const stopStarted = Date.now();
  const stop = docker(['stop', '--time', String(STOP_TIMEOUT_S), name]);
  const stopSeconds = (Date.now() - stopStarted) / 1000;
  t.is(stop.code, 0, stop.out);
  t.is(docker(['inspect', '--format', '{{.State.ExitCode}}', name]).out, '0', docker(['logs', '--tail', '40', name]).out);
  t.true(stopSeconds < STOP_TIMEOUT_S, `stopped in ${stopSeconds}s, before docker's SIGKILL`);

  // A new container on the same data: the same passwords, the pushed image still there.
  docker(['rm', name]);
  const again = await project.run('image:run', ['--detach']);
  t.is(again.error, undefined, again.all);
  t.is(await healthy(name), 'running healthy', docker(['logs', '--tail', '60', name]).out);
  t.is((await readFile(join(volume, 'secrets', 'users.admin.password'), 'utf8')).trim(), password);
  docker(['image', 'rm', ref]);
  const pullAgain = docker(['pull', ref], client);
  t.is(pullAgain.code, 0, pullAgain.out);
});
