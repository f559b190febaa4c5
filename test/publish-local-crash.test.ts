// kill -9 of `publish --target local` at random moments, 20 rounds: a child
// process publishes two releases into one folder, turn about, and is killed.
// After each kill the folder still verifies (it shows one whole release, or
// none before the first switch), the next run succeeds and leaves no leftover,
// and a sentinel tree outside dist/, the cache and the publish folder is
// untouched.
import test from 'ava';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publishLocal } from './helpers/github/local-publish.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';
import { treeDigest } from './helpers/github/tree.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

requireCommands('sha256sum', 'flock');
const CHILD = fileURLToPath(new URL('helpers/github/local-publish.ts', import.meta.url));
const TAG = 'attachedfiles';
const ROUNDS = 20;

const verify = (dir: string) => promisify(execFile)('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dir }).then(() => 'ok', (e: Error & { stdout?: string }) => `${e.stdout ?? ''}${e.message}`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Names a careless cleanup would take for its own, beside and inside a copy of the publish layout. */
async function plantSentinel(cwd: string): Promise<string> {
  const root = join(cwd, 'sentinel');
  for (const dir of [`published/${TAG}`, `published/.${TAG}.versions/staging-0badc0de`, `published/.${TAG}.versions/v0000000000001-00000001`, 'dist/release.old-1']) {
    await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, dir, 'keep.txt'), `sentinel ${dir}`);
  }
  await writeFile(join(root, `published/${TAG}/.corpus-kit-tmp-0badc0de-SHA256SUMS`), 'not the kit\'s');
  await symlink('../published', join(root, 'dist/link-to-published'));
  await mkdir(join(cwd, 'published'), { recursive: true });
  await writeFile(join(cwd, 'published', 'README'), 'the user\'s, beside the kit\'s folders');
  return root;
}

test(`kill -9 of publish --target local at random moments, ${ROUNDS} rounds: the folder always verifies, the next run succeeds and cleans up, nothing else is touched`, async (t) => {
  const cwd = await tempDir(t, 'corpus-kit-publish-crash-');
  const releases = {
    'dist/release-a': await writeReleaseDir(join(cwd, 'dist/release-a'), { registry: randomBytes(12 * 1024 * 1024), auth_server: randomBytes(5 * 1024 * 1024) }),
    'dist/release-b': await writeReleaseDir(join(cwd, 'dist/release-b'), { registry: randomBytes(9 * 1024 * 1024), auth_server: randomBytes(7 * 1024 * 1024) }),
  };
  const sentinel = await plantSentinel(cwd);
  const sentinelBefore = await treeDigest(sentinel);
  const readme = await readFile(join(cwd, 'published', 'README'));
  const target = join(cwd, 'published', TAG);
  const versions = join(cwd, 'published', `.${TAG}.versions`);
  const stats = { leftovers: 0, mid: 0 };

  for (let round = 1; round <= ROUNDS; round++) {
    const child = spawn(process.execPath, ['--import=tsx', CHILD, cwd], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = once(child, 'exit');
    await Promise.race([once(child.stdout, 'data'), exited]);
    await sleep(Math.random() * 1500);
    t.is(child.exitCode, null, `round ${round}: the child was still publishing (${stderr})`);
    child.kill('SIGKILL');
    await exited;

    // Right after the kill, before any recovery: the folder shows one whole release, or none yet.
    const shown = await lstat(target).catch(() => undefined);
    if (shown) t.is(await verify(target), 'ok', `round ${round}: the folder verifies right after the kill`);
    const left = (await readdir(versions).catch(() => [] as string[])).filter((n) => !n.startsWith('v'));
    if (left.length > 0 || !shown) stats.leftovers++;
    if (left.some((n) => n.startsWith('staging-'))) stats.mid++;

    const next = round % 2 === 0 ? 'dist/release-a' : 'dist/release-b';
    const recovery = await publishLocal(cwd, next);
    t.is(recovery.error, undefined, `round ${round}: ${recovery.all}`);
    t.is(await verify(target), 'ok', `round ${round}: the folder verifies after the next run`);
    for (const [name, bytes] of releases[next].contents) t.is(sha256(await readFile(join(target, name))), sha256(bytes), `round ${round}: ${name}`);
    t.deepEqual((await readdir(versions).catch(() => [] as string[])).filter((n) => !/^v\d{13}-[0-9a-f]{8}$/.test(n)), [], `round ${round}: no leftover of the killed run`);
    t.true((await readdir(versions).catch(() => [] as string[])).length <= 2, `round ${round}: the version shown and at most the one before it`);
    // The lock file stays (a flock lock dies with its holder, not with its file): it must be free.
    const lock = `.${TAG}.corpus-kit-lock`;
    t.deepEqual((await readdir(join(cwd, 'published'))).filter((n) => n !== `.${TAG}.versions` && n !== lock).sort(), [TAG, 'README'].sort(), `round ${round}: no temporary or link left in the publish folder`);
    t.is(spawnSync('flock', ['--nonblock', join(cwd, 'published', lock), 'true']).status, 0, `round ${round}: the killed run's lock is free`);
  }
  t.is(await treeDigest(sentinel), sentinelBefore, 'the sentinel tree is untouched');
  t.deepEqual(await readFile(join(cwd, 'published', 'README')), readme);
  t.deepEqual((await readdir(cwd)).sort(), ['dist', 'published', 'sentinel'].sort(), 'nothing new beside them');
  t.log(`${stats.leftovers} of ${ROUNDS} kills left something for the next run to clean (${stats.mid} mid-copy)`);
});
