// A no-op release: once a release into a local folder succeeded, the next one
// with nothing changed says "up to date" and does nothing else. Every change
// that would make the full pipeline do something (a touched, replaced or removed
// output, a changed publish folder, a new pin, a moved tag, an edited kit,
// --force) runs it.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject, snapshot, useGulpCli, type BuildProject, type Run } from './helpers/build-project.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz', 'cp', 'touch'));

const ARCHIVE = 'vendored-v1.0.0.xz';
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

const upToDate = (r: Run) => /^release: up to date: /m.test(r.err);
/** The run went through every step: packaged and published again. */
const ranEverything = (r: Run) => /^package: /m.test(r.err) && /^publish: /m.test(r.err) && !upToDate(r);

function ok(t: ExecutionContext, r: Run): void {
  t.is(r.error, undefined, `${r.error?.message}\n${r.err}`);
}

/** The first project's cache (sources, builds, archives) serves every test: a test's first release compiles nothing. */
let shared: Promise<BuildProject> | undefined;
const cleanups: (() => unknown)[] = [];
test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A project whose release has run (and stamped), and whose second release was up to date. */
async function released(t: ExecutionContext, own = false): Promise<BuildProject> {
  // Warmed by one release before any test's own: runs of one process must not fill the same cache entry at once.
  const base = await (shared ??= buildProject({ teardown: (fn) => void cleanups.push(fn) }, { names: ['vendored'] }).then(async (p) => {
    const first = await p.run('release');
    if (first.error) throw first.error;
    return p;
  }));
  // Upstreams of their own (for tests that change them) get a cache of their own: two made in the same second have the same commits.
  const project = await buildProject(t, { names: ['vendored'], ...(own ? {} : { upstream: base.upstream, cache: base.cache }) });
  ok(t, await project.run('release'));
  const again = await project.run('release');
  ok(t, again);
  t.true(upToDate(again), again.err);
  return project;
}

test('a second release with nothing changed is up to date: no step runs, nothing in dist/ changes', async (t) => {
  const project = await released(t);
  const dist = () => Promise.all(['release', 'bin', 'publish/attachedfiles'].map((dir) => snapshot(join(project.cwd, 'dist', dir))));
  const before = await dist();
  const run = await project.run('release');
  ok(t, run);
  t.true(upToDate(run), run.err);
  t.notRegex(run.err, /^(fetch|compile|package|publish):/m);
  t.notRegex(run.err, /docker|xz -/);
  t.deepEqual(await dist(), before);
});

test('a release file touched (same bytes, new mtime) runs every step', async (t) => {
  const project = await released(t);
  const file = join(project.cwd, 'dist/release/SHA256SUMS');
  await utimes(file, new Date(), new Date(Date.now() + 60_000));
  const run = await project.run('release');
  ok(t, run);
  t.true(ranEverything(run), run.err);
});

/** Writes `bytes` into `file` in place (same inode), then sets its times back to the nanosecond; returns its stat before and after. */
async function rewriteKeepingTimes(file: string, bytes: (size: number) => Buffer | string) {
  // Outside the file's folder: an entry added there would change the folder, and so show the change anyway.
  const reference = join(tmpdir(), `corpus-kit-times-${randomBytes(6).toString('hex')}`);
  execFileSync('cp', ['--preserve=timestamps', file, reference]);
  const before = await stat(file, { bigint: true });
  await writeFile(file, bytes(Number(before.size)));
  execFileSync('touch', ['--reference', reference, file]);
  await rm(reference);
  return { before, after: await stat(file, { bigint: true }) };
}

test('an archive replaced by other bytes of the same size, its mtime set back to the nanosecond, is caught and packaged again', async (t) => {
  const project = await released(t);
  const file = join(project.cwd, 'dist/release', ARCHIVE);
  const good = await sha256(file);
  const { before, after } = await rewriteKeepingTimes(file, (size) => Buffer.alloc(size, 0x41));
  t.deepEqual([after.ino, after.size, after.mtimeNs], [before.ino, before.size, before.mtimeNs]);
  t.not(await sha256(file), good);
  const run = await project.run('release');
  ok(t, run);
  t.true(ranEverything(run), run.err);
  t.is(await sha256(file), good);
});

test('a release file removed, or dist/bin\'s binary removed, runs every step and brings it back', async (t) => {
  const project = await released(t);
  for (const file of ['dist/release/manifest.json', 'dist/bin/vendored']) {
    await rm(join(project.cwd, file));
    const run = await project.run('release');
    ok(t, run);
    t.true(ranEverything(run), `${file}\n${run.err}`);
    t.truthy(await stat(join(project.cwd, file)), file);
  }
});

test('a file of the publish folder changed (same size, mtime set back) or removed is published again', async (t) => {
  const project = await released(t);
  const published = join(project.cwd, 'dist/publish/attachedfiles');
  const md5 = join(published, `${ARCHIVE}.md5`);
  const text = await readFile(md5, 'utf8');
  const { before, after } = await rewriteKeepingTimes(md5, () => text.replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
  t.deepEqual([after.ino, after.size, after.mtimeNs], [before.ino, before.size, before.mtimeNs]);
  const changed = await project.run('release');
  ok(t, changed);
  t.true(ranEverything(changed), changed.err);
  t.regex(changed.err, new RegExp(`publish: replaced ${ARCHIVE}\\.md5 \\(sha256 differs`));
  t.is(await readFile(md5, 'utf8'), text);

  await rm(join(published, 'SHA256SUMS'));
  const removed = await project.run('release');
  ok(t, removed);
  t.regex(removed.err, /publish: copied SHA256SUMS \(new\)/);
});

test('what a killed publish left in the versions folder makes the next release run every step, which removes it', async (t) => {
  const project = await released(t);
  const leftover = join(project.cwd, 'dist/publish/.attachedfiles.versions/staging-0badf00d');
  await mkdir(leftover);
  await writeFile(join(leftover, 'SHA256SUMS'), 'half a copy');
  const run = await project.run('release');
  ok(t, run);
  t.false(upToDate(run), run.err);
  t.regex(run.err, /publish: removing .*staging-0badf00d \(left by an interrupted run\)/);
  await t.throwsAsync(stat(leftover), { code: 'ENOENT' });
});

test('a new pin (a commit SHA: no tag to check upstream) runs every step and releases it', async (t) => {
  const project = await released(t, true);
  const commit = project.upstream.vendored!.commit('VERSION', '1.0.1\n', 'next version');
  project.binaries.vendored!.source.ref = commit;
  await project.save();
  const run = await project.run('release');
  ok(t, run);
  t.true(ranEverything(run), run.err);
  t.truthy(await stat(join(project.cwd, `dist/publish/attachedfiles/vendored-${commit.slice(0, 12)}.xz`)));
});

test('a tag moved upstream since the last release is not up to date: release stops on it', async (t) => {
  const project = await released(t, true);
  const upstream = project.upstream.vendored!;
  upstream.commit('main.go', '// tampered\npackage main\nfunc main() {}\n', 'replace the program');
  upstream.tag('v1.0.0', { force: true });
  const run = await project.run('release');
  t.false(upToDate(run), run.err);
  t.regex(run.error?.message ?? '', /binaries\.vendored\.source\.ref: tag "v1\.0\.0" now points to/);
});

test('--force runs every step; so do --dry-run and --only, which record nothing: the next release runs every step again', async (t) => {
  const project = await released(t);
  const forced = await project.run('release', ['--force']);
  ok(t, forced);
  t.true(ranEverything(forced), forced.err);
  for (const flags of [['--dry-run'], ['--only', 'vendored']]) {
    const partial = await project.run('release', flags);
    ok(t, partial);
    t.false(upToDate(partial), `${flags}\n${partial.err}`);
    t.regex(partial.err, /^stamp: skipped \(--(dry-run|only) /m);
    const full = await project.run('release');
    ok(t, full);
    t.true(ranEverything(full), `after ${flags}\n${full.err}`);
  }
  const again = await project.run('release');
  t.true(upToDate(again), again.err);
});

// Serial (ava runs serial tests before the others): it edits the kit itself, which
// no other release may see happen while it runs (that release would not be recorded).
test.serial('gulp release from the command line is up to date too; after an edit of the kit\'s own code it runs every step', async (t) => {
  const project = await released(t);
  await useGulpCli(project.cwd);
  const release = () => runGulp(project.cwd, ['release', '--pillar', 'pillar.yml'], project.env);
  const same = await release();
  t.is(same.code, 0, same.all);
  t.regex(same.stderr, /^release: up to date: /m);
  // A module the release runs, saved again (same bytes, a new mtime), as an edit or a checkout does; set back after.
  const module = join(REPO_ROOT, 'tasks/package.ts');
  const reference = join(tmpdir(), `corpus-kit-times-${randomBytes(6).toString('hex')}`);
  execFileSync('cp', ['--preserve=timestamps', module, reference]);
  try {
    execFileSync('touch', [module]);
    const edited = await release();
    t.is(edited.code, 0, edited.all);
    t.notRegex(edited.stderr, /up to date/);
    t.regex(edited.stderr, /^package: /m);
  } finally {
    execFileSync('touch', ['--reference', reference, module]);
    await rm(reference);
  }
});
