// The local target as a reader sees it: publish.local.dir/<tag>/ shows one whole
// release at every moment (a symlink switched to a complete, verified version),
// a corrupted copy never reaches it, a dry run writes nothing whatever a killed
// run left behind, and a folder from before versioned publishing is taken over
// with everything in it.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '../lib/logger.ts';
import { LOCAL_TEMP_PREFIX, LocalPublisher } from '../tasks/publish/local.ts';
import { filesOf, publishProject, TAG } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';
import { treeDigest } from './helpers/github/tree.ts';
import { requireCommands } from './helpers/prerequisites.ts';

requireCommands('sha256sum');
const run = promisify(execFile);

async function localProject(t: import('ava').ExecutionContext) {
  const project = await publishProject(t, { target: 'local' });
  const published = join(project.cwd, 'published');
  return { ...project, published, target: join(published, TAG), versions: join(published, `.${TAG}.versions`) };
}

/** `sha256sum -c SHA256SUMS` in the folder; the error output when it fails. */
async function verifies(dir: string): Promise<true | string> {
  return run('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dir }).then(() => true as const, (e: { stdout?: string; stderr?: string; message: string }) => `${e.stdout ?? ''}${e.stderr ?? e.message}`);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('a copy corrupted between write and switch fails the run; the folder keeps showing the previous release, whole', async (t) => {
  const project = await localProject(t);
  t.is((await project.run()).error, undefined);
  const before = await treeDigest(project.target);
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('next registry build'.repeat(4000)), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  const corrupted: string[] = [];
  const publisher = new LocalPublisher(project.target, new Logger({ err: () => undefined }), {
    async afterCopy(path) {
      if (!path.endsWith('/registry-v2.8.3.xz')) return;
      const bytes = await readFile(path);
      bytes[bytes.length >> 1]! ^= 0x20;
      await writeFile(path, bytes);
      corrupted.push(path);
    },
  });
  const error = await publisher.publish(await filesOf(project.release.dir)).then(() => undefined, (e: Error) => e);
  t.is(corrupted.length, 1, 'the hook corrupted the copy');
  t.regex(error?.message ?? '', /registry-v2\.8\.3\.xz: the copy in .* does not match \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); the previous release is left in place/);
  t.is(await treeDigest(project.target), before, 'the folder shows the previous release, byte for byte');
  t.is(await verifies(project.target), true);
  t.deepEqual((await readdir(project.versions)).filter((n) => !n.startsWith('v')), [], 'no half-built version left');

  // A first publish that fails so leaves no folder at all.
  const fresh = await localProject(t);
  const failed = await new LocalPublisher(fresh.target, new Logger({ err: () => undefined }), { afterCopy: async (path) => writeFile(path, 'flipped') })
    .publish(await filesOf(fresh.release.dir)).then(() => undefined, (e: Error) => e);
  t.truthy(failed);
  await t.throwsAsync(lstat(fresh.target), { code: 'ENOENT' });
});

test('--dry-run writes nothing into a folder full of a killed run\'s leftovers: the folder is byte-identical and the plan names each', async (t) => {
  const project = await localProject(t);
  t.is((await project.run()).error, undefined);
  const current = join(project.published, await readlink(project.target));
  // What runs killed at various moments leave: a version in the making, a symlink not yet switched in, an older
  // complete version, an unversioned folder moved aside, and a temporary copy of the unversioned layout.
  await mkdir(join(project.versions, 'staging-0badc0de'));
  await writeFile(join(project.versions, 'staging-0badc0de', 'registry-v2.8.3.xz'), 'half a copy');
  await symlink(`.${TAG}.versions/v0000000000001-00000001`, join(project.versions, 'link-12345678'));
  await mkdir(join(project.versions, 'v0000000000001-00000001'));
  await mkdir(join(project.versions, 'v0000000000002-00000002'));
  await mkdir(join(project.versions, 'unversioned-abcdef01'));
  await writeFile(join(current, `${LOCAL_TEMP_PREFIX}0badc0de-SHA256SUMS`), 'half');
  project.release = await writeReleaseDir(project.release.dir, { registry: Buffer.from('changed'), auth_server: project.release.contents.get('auth_server-1.14.0.xz')! });
  const before = await treeDigest(project.published);

  const plan = await project.run(['--dry-run']);
  t.is(plan.error, undefined, plan.all);
  t.is(await treeDigest(project.published), before, 'not a byte, name, link or mode changed');
  for (const name of ['staging-0badc0de', 'link-12345678', 'unversioned-abcdef01', `${LOCAL_TEMP_PREFIX}0badc0de-SHA256SUMS`]) t.regex(plan.out, new RegExp(`^delete +${name} +left by an interrupted run$`, 'm'));
  for (const name of ['v0000000000001-00000001', 'v0000000000002-00000002']) t.regex(plan.out, new RegExp(`^delete +${name} +an older version$`, 'm'));
  t.regex(plan.out, /^replace +registry-v2\.8\.3\.xz +size differs$/m);

  // The folder's symlink gone too (a run killed between its version and its switch): still nothing written.
  await rename(project.target, join(project.cwd, 'link-aside'));
  const beforeRelink = await treeDigest(project.published);
  const relinkPlan = await project.run(['--dry-run']);
  t.is(await treeDigest(project.published), beforeRelink);
  t.regex(relinkPlan.out, new RegExp(`^rename +${project.target} +pointed at v\\d{13}-[0-9a-f]{8}, the version an interrupted run completed$`, 'm'));

  // The real run does what the plan said and cleans up all of it.
  const real = await project.run();
  t.is(real.error, undefined, real.all);
  t.deepEqual((await readdir(project.versions)).filter((n) => !/^v\d{13}-[0-9a-f]{8}$/.test(n)), []);
  t.deepEqual((await readdir(project.versions)).sort(), [current.split('/').pop()!, (await readlink(project.target)).split('/').pop()!].sort(), 'the version shown now and the one shown before');
  t.deepEqual((await readdir(project.target)).sort(), [...project.release.files].sort());
  t.is(await verifies(project.target), true);
});

test('a reader never sees a mix of two releases while publishes switch between them', async (t) => {
  const project = await localProject(t);
  const big = (seed: string) => Buffer.concat(Array.from({ length: 64 }, (_, i) => createHash('sha512').update(`${seed}${i}`).digest()).map((b) => Buffer.alloc(64 * 1024, b)));
  const releases = [
    { registry: big('a-registry'), auth_server: big('a-auth') },
    { registry: big('b-registry'), auth_server: big('b-auth') },
  ];
  project.release = await writeReleaseDir(project.release.dir, releases[0]!);
  t.is((await project.run()).error, undefined);
  let publishing = true;
  const failures: string[] = [];
  let checks = 0;
  const reader = (async () => {
    while (publishing) {
      const result = await verifies(project.target);
      checks++;
      if (result !== true) failures.push(result);
    }
  })();
  for (let round = 1; round <= 10; round++) {
    project.release = await writeReleaseDir(project.release.dir, releases[round % 2]!);
    const result = await project.run();
    t.is(result.error, undefined, result.all);
  }
  publishing = false;
  await reader;
  t.true(checks >= 5, `the reader checked ${checks} times`);
  t.deepEqual(failures, [], 'every check saw one whole release');
  t.is(sha256(await readFile(join(project.target, 'registry-v2.8.3.xz'))), sha256(releases[0]!.registry));
});

test('a folder from before versioned publishing is taken over: every file in it kept, then a symlink to a verified version', async (t) => {
  const project = await localProject(t);
  await mkdir(join(project.target, 'notes'), { recursive: true });
  await writeFile(join(project.target, 'README'), 'put here by a person');
  await writeFile(join(project.target, 'notes', 'a.txt'), 'a note');
  await writeFile(join(project.target, 'registry-v2.8.3.xz'), 'an old build');
  const plan = await project.run(['--dry-run']);
  t.regex(plan.out, new RegExp(`^rename +${project.target} +a folder of its own: becomes a symlink to a verified version of it$`, 'm'));
  t.true((await lstat(project.target)).isDirectory(), 'the dry run left it alone');

  const result = await project.run();
  t.is(result.error, undefined, result.all);
  t.true((await lstat(project.target)).isSymbolicLink());
  t.is(await readFile(join(project.target, 'README'), 'utf8'), 'put here by a person');
  t.is(await readFile(join(project.target, 'notes', 'a.txt'), 'utf8'), 'a note');
  t.deepEqual(await readFile(join(project.target, 'registry-v2.8.3.xz')), project.release.contents.get('registry-v2.8.3.xz'));
  t.is(await verifies(project.target), true);
  t.deepEqual((await readdir(project.versions)).length, 1, 'the unversioned folder is gone, its entries live on in the version');
});

test('a symlink the kit did not make is refused, not replaced', async (t) => {
  const project = await localProject(t);
  const theirs = join(project.cwd, 'theirs');
  await mkdir(theirs);
  await mkdir(project.published);
  await symlink(theirs, project.target);
  const result = await project.run();
  t.regex(result.error?.message ?? '', new RegExp(`${project.target} is a symlink to ${theirs}, which corpus-kit did not create; remove the link`));
  t.is(await readlink(project.target), theirs);
  t.deepEqual(await readdir(theirs), []);
  await rm(project.target);
});

test('a versions folder removed by hand: the dangling link is replaced by a fresh version', async (t) => {
  const project = await localProject(t);
  t.is((await project.run()).error, undefined);
  await rm(project.versions, { recursive: true });
  const plan = await project.run(['--dry-run']);
  t.regex(plan.out, new RegExp(`^create +${project.target} +folder does not exist$`, 'm'));
  const result = await project.run();
  t.is(result.error, undefined, result.all);
  t.is(await verifies(project.target), true);
});
