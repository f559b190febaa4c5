// The stack's cron under real supervisord, while cron's machine-wide lock
// (/run/crond.pid, held with flock as Debian's cron holds it) is taken, as on a
// host whose own cron runs: the stack's cron stays RUNNING and runs the
// rendered crontab's entries (a plugin's `* * * * *` one within ~61 s).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { requireCommands } from './helpers/prerequisites.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { ECHO_PLUGIN, stackProject, statusJson } from './helpers/stack.ts';
import { tickFile } from './fixtures/plugins/cron-tick.ts';

requireCommands('docker', 'nginx', 'supervisord', 'redis-server', 'docker-registry', 'flock');

const HOST_CRON_LOCK = '/run/crond.pid';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the host cron's lock until released; if the host's cron holds it already, so much the better. */
async function holdHostCronLock(): Promise<{ release: () => Promise<void> }> {
  const created = !existsSync(HOST_CRON_LOCK);
  // --no-fork: flock becomes the sleep, so killing it lets the lock go.
  const holder = spawn('flock', ['--nonblock', '--no-fork', HOST_CRON_LOCK, 'sh', '-c', 'echo locked; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => holder.on('exit', () => resolve()));
  const held = await new Promise<boolean>((resolve) => {
    holder.stdout.on('data', () => resolve(true));
    holder.on('exit', (code) => resolve(code === 1));
  });
  if (!held) throw new Error(`could not take or find a lock on ${HOST_CRON_LOCK}`);
  return {
    async release() {
      holder.kill('SIGTERM');
      await exited;
      // The kit never deletes what it did not create; neither does its test.
      if (created) await rm(HOST_CRON_LOCK, { force: true });
    },
  };
}

test('with the host cron lock on /run/crond.pid held, the stack cron stays RUNNING and runs a plugin cron entry within 62 s', async (t) => {
  const lock = await holdHostCronLock();
  t.teardown(() => lock.release());
  const project = await stackProject({ plugins: [ECHO_PLUGIN, join(REPO_ROOT, 'test/fixtures/plugins/cron-tick.ts')] });
  t.teardown(() => project.cleanup());
  const ca = await project.gulp(['ca']);
  t.is(ca.code, 0, ca.all);
  const up = await project.up(['--detach']);
  t.is(up.code, 0, up.all);

  const tick = tickFile(project.data);
  const deadline = Date.now() + 62_000;
  while (!existsSync(tick) && Date.now() < deadline) await sleep(500);
  const cronLog = await readFile(join(project.data, 'log', 'cron.log'), 'utf8').catch(() => '');
  t.true(existsSync(tick), `the cron/tick entry did not run within 62 s; cron.log:\n${cronLog}`);
  t.regex(cronLog, /cron: line \d+: started \(pid \d+\): date \+%s >> /);

  const { status } = await statusJson(project);
  t.like(status.processes.find((p) => p.name === 'cron'), { state: 'RUNNING', restarts: 0 });
});
