// `supervisor: circus` in the image: the base recipe installs circus (PyPI,
// pinned by hash), so the image runs the stack under circusd as it does under
// supervisord: healthy, nginx's challenge on loopback, the services as the
// pillar's user, docker stop exits 0.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { STOP_TIMEOUT_S } from '../tasks/image-run.ts';
import { containerProcesses, containerUser, docker, healthy, notRunningAs } from './helpers/image-container.ts';
import { imageProject } from './helpers/image-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { freePort } from './helpers/render-project.ts';

test('image:run with supervisor: circus: circusd runs the stack, healthy, nginx answers with its challenge, the services run as the pillar user, docker stop exits 0', async (t) => {
  t.timeout(30 * 60_000, 'builds the image (and its base on a new machine), then starts the stack');
  requireCommands('curl');
  const ports = { http: await freePort(), https: await freePort(), registry: await freePort(), debug: await freePort(), redis: await freePort(), sshd: await freePort() };
  const name = `ckc${Math.random().toString(36).slice(2, 8)}`;
  const project = await imageProject(t, {
    project: name,
    data_root: `/srv/projects/${name}/data`,
    supervisor: 'circus',
    ports: { http: ports.http, https: ports.https },
    registry: { port: ports.registry, debug_addr: `127.0.0.1:${ports.debug}` },
    redis: { port: ports.redis },
    sshd: { host: '127.0.0.1', port: ports.sshd },
    users: { admin: { password: null }, readonly: { password: null } },
  });
  await project.setPillar({ image: { name: project.name, dev_tag: 'dev', run: { data: join(project.dir, 'volume'), network: 'host', restart: 'no' } } });
  t.teardown(() => void docker(['rm', '--force', name]));
  const built = await project.run('image:build');
  t.is(built.error, undefined, built.all);
  const started = await project.run('image:run', ['--detach']);
  t.is(started.error, undefined, started.all);

  t.is(await healthy(name), 'running healthy', docker(['logs', '--tail', '60', name]).out);
  const status = docker(['exec', name, '/usr/local/bin/corpus-kit', 'status']);
  t.is(status.code, 0, status.out);
  t.regex(status.out, /^circus pid \d+$/m);
  for (const process of ['redis', 'registry', 'nginx', 'cron', 'sshd']) t.regex(status.out, new RegExp(`^${process}\\s+RUNNING\\s+pid \\d+`, 'm'));
  const anonymous = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${ports.http}/v2/`], { encoding: 'utf8' });
  t.is(anonymous.stdout, '401', 'nginx answers on loopback with the challenge');

  const processes = containerProcesses(name);
  t.is(processes.filter((p) => p.comm === 'circusd').length, 1, processes.map((p) => p.args).join('\n'));
  t.is(processes.filter((p) => p.comm === 'supervisord').length, 0, 'no supervisord');
  const service = containerUser(name, 'registry');
  for (const comm of ['registry', 'redis-server']) {
    const list = processes.filter((p) => p.comm === comm);
    t.true(list.length > 0, `${comm} runs`);
    t.deepEqual(notRunningAs(list, service), [], `${comm} runs as registry`);
  }

  const stop = docker(['stop', '--time', String(STOP_TIMEOUT_S), name]);
  t.is(stop.code, 0, stop.out);
  t.is(docker(['inspect', '--format', '{{.State.ExitCode}}', name]).out, '0', docker(['logs', '--tail', '40', name]).out);
});
