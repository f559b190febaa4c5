// The cross-process lock (package, corpus.lock.json, recipe images): it dies with
// its holder however the holder ends, whatever pid the holder had, and a waiter
// says who holds it and gives up after its timeout with the fix.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from '../lib/lock.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

const HOLD = join(REPO_ROOT, 'test/fixtures/lock/hold.ts');

test.before(() => requireCommands('flock', 'unshare'));

/** A process (run by `wrapper`, if any) that holds the lock at `path`; resolves once it does. */
async function holder(t: Parameters<typeof tempDir>[0], wrapper: string[], path: string): Promise<ChildProcess> {
  const argv = [...wrapper, process.execPath, '--import=tsx', HOLD, path];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => void (out += chunk));
  while (!out.includes('held')) {
    if (child.exitCode !== null) throw new Error(`the holder exited (${child.exitCode}) without taking the lock`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

test('a lock whose holder was killed -9 in a pid namespace (pid 1, alive on the host) is free at once', async (t) => {
  const path = join(await tempDir(t), 'release.lock');
  // In its own pid namespace the holder is pid 1: a pid-only lock sees "pid 1 is alive" and waits forever.
  const child = await holder(t, ['unshare', '--pid', '--fork', '--kill-child'], path);
  child.kill('SIGKILL');
  await once(child, 'close');
  const started = Date.now();
  const waits: string[] = [];
  t.is(await withLock(path, async () => 'taken', { what: 'test', timeoutMs: 5_000, onWait: (h) => waits.push(h) }), 'taken');
  t.deepEqual(waits, [], 'nothing to wait for');
  t.true(Date.now() - started < 3_000);
});

test('a waiter names the live holder and gives up after its timeout, saying how to go on', async (t) => {
  const path = join(await tempDir(t), 'release.lock');
  const child = await holder(t, [], path);
  const waits: string[] = [];
  const error = await t.throwsAsync(withLock(path, async () => 'taken', { what: 'package', timeoutMs: 1_000, onWait: (h) => waits.push(h) }));
  t.is(waits.length, 1);
  t.regex(waits[0]!, new RegExp(`^package: waiting for .*release\\.lock, held by pid ${child.pid} on `));
  t.regex(error!.message, new RegExp(`^package: gave up after 1s waiting for .*release\\.lock, held by pid ${child.pid} .*kill ${child.pid}.*CORPUS_KIT_LOCK_TIMEOUT`));
  // Once the holder is gone, the lock is free.
  child.kill('SIGKILL');
  await once(child, 'close');
  t.is(await withLock(path, async () => 'taken', { what: 'package', timeoutMs: 2_000 }), 'taken');
});

test('holders in one process take turns, and the last one leaves no lock file', async (t) => {
  const path = join(await tempDir(t), 'release.lock');
  const order: string[] = [];
  const hold = (name: string) => withLock(path, async () => {
    order.push(`${name} in`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    order.push(`${name} out`);
  }, { what: name, timeoutMs: 10_000 });
  await Promise.all([hold('a'), hold('b'), hold('c')]);
  t.deepEqual(order.map((s) => s.slice(2)), ['in', 'out', 'in', 'out', 'in', 'out']);
  // The last holder removed the file as it let go; the ones before it did too, and each waiter started over on the new file.
  t.false(existsSync(path), 'no lock file left once every holder is done');
});
