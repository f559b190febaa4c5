// The stack's cron process for real: the command the cron plugin gives the
// supervisor, started on a crontab, runs a `* * * * *` entry at the start of
// the next minute (so within ~61 s) with the crontab's SHELL and assignments,
// logs each start and exit, and on SIGTERM signals its running jobs and exits 0.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { cronCommand } from '../lib/cron/command.ts';
import { isAlive } from './helpers/stack.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startCron(crontab: string) {
  const [node, ...args] = cronCommand(crontab);
  const child = spawn(node!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function until<T>(what: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) {
    const value = await what();
    if (value !== undefined) return value;
  }
  return undefined;
}

test('a * * * * * entry runs at the start of the next minute with the crontab SHELL and assignments; SIGTERM reaches the running job, cron exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-cron-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ran = join(dir, 'ran');
  const job = join(dir, 'job');
  const crontab = join(dir, 'crontab');
  await writeFile(crontab, [
    '# a test crontab',
    'SHELL=/bin/bash',
    'GREETING=hello from cron',
    `* * * * * echo "$BASH_VERSION|$GREETING|$(date +%S)" >> ${ran}`,
    // A job still running at SIGTERM: it records the signal it got.
    `@reboot echo $$ > ${job}; trap 'echo TERM >> ${job}; exit 0' TERM; while :; do sleep 1; done`,
    '',
  ].join('\n'));
  const cron = startCron(crontab);
  t.teardown(async () => {
    cron.child.kill('SIGKILL');
    // Standalone, no supervisor kills the group: a failed test must not leave the job behind.
    const pid = Number((await readFile(job, 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  const line = await until(async () => (existsSync(ran) ? (await readFile(ran, 'utf8')).trim() || undefined : undefined), 62_000);
  t.truthy(line, `the entry did not run within 62 s:\n${cron.output()}`);
  const [bash, greeting, second] = line!.split('|');
  t.truthy(bash, 'run by the crontab SHELL (bash)');
  t.is(greeting, 'hello from cron');
  t.true(Number(second) <= 5, `started ${second} s into the minute`);
  t.regex(cron.output(), /cron: line 4: started \(pid \d+\): echo/);
  t.regex(cron.output(), /cron: line 4: exited \(pid \d+\) with 0 after [\d.]+ s/);

  const jobPid = Number((await readFile(job, 'utf8')).split('\n')[0]);
  t.true(isAlive(jobPid));
  cron.child.kill('SIGTERM');
  const code = await Promise.race([cron.exited, sleep(5000).then(() => 'still running')]);
  t.is(code, 0, cron.output());
  t.regex(await readFile(job, 'utf8'), /^TERM$/m);
  t.false(isAlive(jobPid));
  t.regex(cron.output(), /cron: line 5: exited \(pid \d+\) with 0/);
});

test('a bad crontab line: cron exits 1 at start, naming the file and the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-cron-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const crontab = join(dir, 'crontab');
  await writeFile(crontab, 'SHELL=/bin/sh\n\n*/5 25 * * * true\n');
  const cron = startCron(crontab);
  t.is(await cron.exited, 1);
  t.is(cron.output(), `cron: ${crontab}:3: hour: 25 is outside 0-23\n`);
});
