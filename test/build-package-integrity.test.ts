// What package puts in an archive is the binary compile verified, and the
// archive cache is trusted only by what its archives decompress to (issue 7.1);
// package.dir is replaced only when the kit can prove it made it, and nothing
// beside it is touched (issue 7.5).
import test from 'ava';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withLock } from '../lib/lock.ts';
import { createTasks } from '../tasks/index.ts';
import { buildProject, snapshot, type BuildProject } from './helpers/build-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { verifyRelease } from './helpers/release-check.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz', 'flock'));

let project: BuildProject;
const cleanups: (() => unknown)[] = [];
test.after.always(async () => {
  for (const fn of cleanups) await fn();
});
const release = () => join(project.cwd, 'dist/release');

/** A task started in-process whose log can be read while it runs. */
async function start(task: string, argv: string[] = []) {
  const state = { log: '', error: undefined as Error | undefined };
  const tasks = await createTasks({ cwd: project.cwd, argv: ['--pillar', join(project.cwd, 'pillar.yml'), ...argv], env: project.env, logger: { out: (s) => void (state.log += s), err: (s) => void (state.log += s) } });
  const done = tasks[task]!().catch((error: Error) => void (state.error = error));
  return { state, done };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pin = async (ref: string) => {
  project.binaries.vendored!.source.ref = ref;
  await project.save();
};

test.serial('package compresses the binary compile verified, even when dist/bin changes while it waits for the lock', async (t) => {
  project = await buildProject({ teardown: (fn) => void cleanups.push(fn) }, { names: ['vendored'] });
  project.upstream.vendored!.tag('v1.0.1');
  // Both builds cached; no archive yet, so package must compress.
  await pin('v1.0.1');
  t.is((await project.run('compile')).error, undefined);
  await pin('v1.0.0');
  t.is((await project.run('compile')).error, undefined);
  let first!: Awaited<ReturnType<typeof start>>;
  await withLock(join(project.cwd, 'dist/.release.corpus-kit-lock'), async () => {
    first = await start('package');
    await until(() => /package: waiting for .*held by pid/.test(first.state.log), 'package to wait for the lock');
    // Another run compiles v1.0.1 into dist/bin while the first waits to package v1.0.0.
    await pin('v1.0.1');
    const other = await project.run('compile');
    t.is(other.error, undefined, other.err);
  }, { what: 'test', timeoutMs: 120_000 });
  await first.done;
  t.is(first.state.error, undefined, first.state.log);
  t.deepEqual(await verifyRelease(release()), ['vendored@v1.0.0']);
});

test.serial('a cached archive that does not decompress to the binary is compressed again, not reused', async (t) => {
  // v1.0.1 packaged too: the archive cache now holds both versions' archives.
  const packaged = await project.run('package');
  t.is(packaged.error, undefined, packaged.err);
  const cache = join(project.cache, 'xz');
  const archives = (await readdir(cache)).filter((f) => f.endsWith('.xz'));
  t.is(archives.length, 2);
  // Each key now names the other version's archive, with a matching record of its digest.
  const [a, b] = archives.map((f) => join(cache, f)) as [string, string];
  for (const suffix of ['', '.json']) {
    await rename(`${a}${suffix}`, `${a}${suffix}.swap`);
    await rename(`${b}${suffix}`, `${a}${suffix}`);
    await rename(`${a}${suffix}.swap`, `${b}${suffix}`);
  }
  const r = await project.run('package');
  t.is(r.error, undefined, r.err);
  t.regex(r.err, /warning: \[vendored\] cached archive .* does not hold this binary .*; compressing again/);
  t.deepEqual(await verifyRelease(release()), ['vendored@v1.0.1']);
  // And the cache entry was put right: the next run reuses it.
  const again = await project.run('package');
  t.regex(again.err, /\[vendored\] cached vendored-v1\.0\.1\.xz, not compressed again/);
  t.deepEqual(await verifyRelease(release()), ['vendored@v1.0.1']);
});

test.serial('a package.dir holding files the kit did not write is refused, and nothing in it is touched', async (t) => {
  const mine = join(project.cwd, 'mine');
  await mkdir(join(mine, '.git'), { recursive: true });
  await writeFile(join(mine, 'notes.txt'), 'my notes');
  await writeFile(join(mine, '.git/HEAD'), 'ref: refs/heads/main\n');
  const before = await snapshot(mine);
  const pillar = JSON.parse(await readFile(join(project.cwd, 'pillar.yml'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(project.cwd, 'mine.yml'), JSON.stringify({ ...pillar, package: { dir: 'mine' } }));
  const r = await project.run('package', ['--pillar', join(project.cwd, 'mine.yml')]);
  t.regex(r.error?.message ?? '', /^package\.dir: \S+\/mine holds files corpus-kit did not write \(\.git, notes\.txt\); .*move those files away, or set package\.dir to another folder/);
  t.deepEqual(await snapshot(mine), before);
  // An empty folder is the kit's to fill, and from then on its to replace.
  const empty = join(project.cwd, 'empty');
  await mkdir(empty);
  await writeFile(join(project.cwd, 'empty.yml'), JSON.stringify({ ...pillar, package: { dir: 'empty' } }));
  for (let i = 0; i < 2; i++) {
    const filled = await project.run('package', ['--pillar', join(project.cwd, 'empty.yml')]);
    t.is(filled.error, undefined, filled.err);
  }
  t.deepEqual(await verifyRelease(empty), ['vendored@v1.0.1']);
  // A release an earlier kit wrote (no journal yet) is recognised by its manifest, which lists exactly its files...
  await rm(join(project.cwd, '.empty.corpus-kit-journal'));
  const adopted = await project.run('package', ['--pillar', join(project.cwd, 'empty.yml')]);
  t.is(adopted.error, undefined, adopted.err);
  // ...but not with a file of the user's beside them.
  await rm(join(project.cwd, '.empty.corpus-kit-journal'));
  await writeFile(join(empty, 'mine.txt'), 'mine');
  const refused = await project.run('package', ['--pillar', join(project.cwd, 'empty.yml')]);
  t.regex(refused.error?.message ?? '', /^package\.dir: \S+\/empty holds files corpus-kit did not write/);
  t.is(await readFile(join(empty, 'mine.txt'), 'utf8'), 'mine');
});

test.serial('folders beside package.dir whose names merely look like its leftovers are never touched', async (t) => {
  const lookAlikes = ['release.old-123', 'release.staging-456', 'release.old-mine', 'release.staging-'];
  for (const name of lookAlikes) {
    await mkdir(join(project.cwd, 'dist', name), { recursive: true });
    await writeFile(join(project.cwd, 'dist', name, 'keep.txt'), name);
  }
  const before = await snapshot(join(project.cwd, 'dist'));
  const r = await project.run('package');
  t.is(r.error, undefined, r.err);
  const after = await snapshot(join(project.cwd, 'dist'));
  for (const name of lookAlikes) t.is(after[`${name}/keep.txt`], before[`${name}/keep.txt`], name);
  t.deepEqual(await verifyRelease(release()), ['vendored@v1.0.1']);
});

test('package.dir and publish.local.dir must be project-relative: an absolute path or .. is refused by the schema', async (t) => {
  const own = await buildProject(t, { names: ['vendored'] });
  const pillar = JSON.parse(await readFile(join(own.cwd, 'pillar.yml'), 'utf8')) as Record<string, unknown>;
  for (const [key, value] of [['package', '/srv/release'], ['package', 'dist/publish/..'], ['package', '../elsewhere'], ['publish', '../out']] as const) {
    const setting = key === 'package' ? { package: { dir: value } } : { publish: { local: { dir: value } } };
    await writeFile(join(own.cwd, 'bad.yml'), JSON.stringify({ ...pillar, ...setting }));
    const r = await own.run('pillar:check', ['--pillar', join(own.cwd, 'bad.yml')]);
    t.regex(r.error?.message ?? '', new RegExp(`${key === 'package' ? 'package' : 'publish\\.local'}\\.dir \\(from [^)]*\\): expected project-relative path \\(no leading /, no \\.\\., no spaces\\), got "${value.replace(/\./g, '\\.')}"`), value);
  }
});
