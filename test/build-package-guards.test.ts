// Guards of the package step around --only, package.dir and interrupted runs:
// what a user would lose or ship by mistake if they were missing.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject, type BuildProject, type Run } from './helpers/build-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz'));

let project: BuildProject;
const cleanups: (() => unknown)[] = [];
test.after.always(async () => {
  for (const fn of cleanups) await fn();
});
const release = () => join(project.cwd, 'dist/release');
const sums = (dir: string) => execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
const fails = (r: Run) => r.error?.message ?? '';

test.serial('release --only publishes the whole release: the carried-over binaries go too', async (t) => {
  project = await buildProject({ teardown: (fn) => void cleanups.push(fn) }, { names: ['vendored', 'legacy'] });
  t.is((await project.run('release')).error, undefined);
  await rm(join(project.cwd, 'dist/publish'), { recursive: true });
  const r = await project.run('release', ['--only', 'vendored']);
  t.is(r.error, undefined, r.err);
  const published = join(project.cwd, 'dist/publish/attachedfiles');
  t.true((await readdir(published)).includes('legacy-v1.0.0.xz'));
  t.is(sums(published), 'legacy-v1.0.0.xz: OK\nvendored-v1.0.0.xz: OK\n');
});

test.serial('--only refuses to carry over a package built from an older pin, and changes nothing', async (t) => {
  const before = await readFile(join(release(), 'SHA256SUMS'), 'utf8');
  project.upstream.legacy!.tag('v1.0.1');
  project.binaries.legacy!.source.ref = 'v1.0.1';
  await project.save();
  const r = await project.run('package', ['--only', 'vendored']);
  t.regex(fails(r), /--only: legacy in .* is v1\.0\.0, but binaries\.legacy\.source\.ref is now v1\.0\.1/);
  t.is(await readFile(join(release(), 'SHA256SUMS'), 'utf8'), before);
  project.binaries.legacy!.source.ref = 'v1.0.0';
  await project.save();
});

test.serial('a package.dir that holds other outputs is refused before anything is removed', async (t) => {
  for (const dir of ['dist', '.']) {
    const pillar = JSON.parse(await readFile(join(project.cwd, 'pillar.yml'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(project.cwd, 'bad-dir.yml'), JSON.stringify({ ...pillar, package: { dir } }));
    const r = await project.run('package', ['--pillar', join(project.cwd, 'bad-dir.yml')]);
    t.regex(fails(r), /package\.dir: expected a directory of its own \(it is replaced on every run\)/, dir);
    t.true((await readdir(join(project.cwd, 'dist'))).includes('publish'), dir);
  }
});

test.serial('a run that died between the renames of the swap: the old release comes back, leftovers go', async (t) => {
  // As the journal of a run killed there names them (only names it lists are touched).
  const info = await stat(release(), { bigint: true });
  const pending = { staging: 'release.staging-999998', old: 'release.old-999999', oldId: `${info.dev}:${info.ino}` };
  await writeFile(join(project.cwd, 'dist/.release.corpus-kit-journal'), JSON.stringify({ owned: pending.oldId, pending }));
  await rename(release(), `${release()}.old-999999`);
  await mkdir(`${release()}.staging-999998`);
  const r = await project.run('package');
  t.is(r.error, undefined, r.err);
  t.deepEqual((await readdir(join(project.cwd, 'dist'))).filter((f) => f.startsWith('release')), ['release']);
  t.is(sums(release()), 'legacy-v1.0.0.xz: OK\nvendored-v1.0.0.xz: OK\n');
});
