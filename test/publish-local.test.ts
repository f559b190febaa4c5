// publish to the local target (publish.local.dir/<tag>/) through the real task:
// a verified copy, a re-run that touches nothing, a tampered file detected and
// replaced, leftovers of an interrupted copy removed, --dry-run, bad input.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../lib/logger.ts';
import { LOCAL_TEMP_PREFIX, LocalPublisher } from '../tasks/publish/local.ts';
import { filesOf, publishProject, TAG } from './helpers/github/project.ts';
import { writeReleaseDir } from './helpers/github/release-dir.ts';

async function localProject(t: import('ava').ExecutionContext) {
  const project = await publishProject(t, { target: 'local' });
  return { ...project, target: join(project.cwd, 'published', TAG), versions: join(project.cwd, 'published', `.${TAG}.versions`) };
}

async function targetFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name)));
  return files;
}

test('copies dist/release/ into publish.local.dir/<tag>/, then a re-run changes nothing', async (t) => {
  const project = await localProject(t);
  const first = await project.run();
  t.is(first.error, undefined, first.all);
  t.deepEqual(await targetFiles(project.target), new Map([...project.release.contents].sort(([a], [b]) => (a < b ? -1 : 1))));
  for (const name of project.release.files) t.regex(first.out, new RegExp(`^${name.replace(/\./g, '\\.')} .* upload +file://${project.target}/${name}$`, 'm'));
  t.deepEqual(project.emulator.requests, [], 'the local target talks to no server');

  const inodes = await Promise.all(project.release.files.map(async (n) => (await stat(join(project.target, n))).ino));
  const second = await project.run();
  t.is(second.error, undefined, second.all);
  for (const name of project.release.files) t.regex(second.out, new RegExp(`^${name.replace(/\./g, '\\.')} .* skip `, 'm'));
  t.deepEqual(await Promise.all(project.release.files.map(async (n) => (await stat(join(project.target, n))).ino)), inodes, 'no file rewritten');
});

test('a tampered file in the target (same size) is detected and replaced; the others are left alone', async (t) => {
  const project = await localProject(t);
  t.is((await project.run()).error, undefined);
  const victim = join(project.target, 'registry-v2.8.3.xz');
  const bytes = await readFile(victim);
  bytes[100]! ^= 0x01;
  await writeFile(victim, bytes);
  const untouched = (await stat(join(project.target, 'SHA256SUMS'))).ino;

  const plan = await project.run(['--dry-run']);
  t.regex(plan.out, /^replace +registry-v2\.8\.3\.xz +sha256 differs \([0-9a-f]{12}\): changed or tampered with$/m);
  t.deepEqual(await readFile(victim), bytes, 'the dry run changed nothing');

  const run = await project.run();
  t.is(run.error, undefined, run.all);
  t.regex(run.err, /replaced registry-v2\.8\.3\.xz \(sha256 differs/);
  t.deepEqual(await readFile(victim), project.release.contents.get('registry-v2.8.3.xz'));
  t.regex(run.out, /^registry-v2\.8\.3\.xz .* replace /m);
  t.is((await stat(join(project.target, 'SHA256SUMS'))).ino, untouched);
});

test('leftover temporary copies are removed; files of others in the folder are kept', async (t) => {
  const project = await localProject(t);
  t.is((await project.run()).error, undefined);
  await writeFile(join(project.target, `${LOCAL_TEMP_PREFIX}0badc0de-registry-v2.8.3.xz`), 'half a copy');
  await writeFile(join(project.target, 'README'), 'kept');
  const run = await project.run();
  t.is(run.error, undefined, run.all);
  t.deepEqual([...(await targetFiles(project.target)).keys()], [...project.release.files, 'README'].sort());
});

test('two publishes into the same target at once: the second waits for the first instead of deleting its copy in progress; both succeed', async (t) => {
  const project = await localProject(t);
  // Big enough that the first run is still copying when the second one starts.
  project.release = await writeReleaseDir(project.release.dir, { registry: randomBytes(48 * 1024 * 1024), auth_server: randomBytes(16 * 1024 * 1024) });
  // The second publishes the same files from elsewhere (another project's release folder, not under this one's
  // release lock), straight into the same target folder.
  const files = await filesOf(project.release.dir);
  let err = '';
  const other = new LocalPublisher(project.target, new Logger({ err: (s) => void (err += s) }));
  const first = project.run();
  let copying = false;
  for (let i = 0; i < 5000 && !copying; i++) {
    copying = (await readdir(project.versions).catch(() => [] as string[])).some((n) => n.startsWith('staging-'));
    if (!copying) await sleep(1);
  }
  t.true(copying, 'the first run was caught with a version in the making');
  const [a, b] = await Promise.all([first, other.publish(files).then(() => undefined, (e: Error) => e)]);
  t.is(a.error, undefined, a.all);
  t.is(b, undefined, b?.message);
  t.regex(err, new RegExp(`publish into ${project.target}: waiting for .*\\.${TAG}\\.corpus-kit-lock, held by pid \\d+ on `));
  t.deepEqual([...(await readdir(project.target))].sort(), [...project.release.files].sort(), 'no temporary copy left');
  t.deepEqual((await readdir(project.versions)).length, 1, 'one version kept: the one the folder shows');
  t.notThrows(() => execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: project.target, stdio: 'pipe' }));
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  for (const name of project.release.files) t.is(sha256(await readFile(join(project.target, name))), sha256(project.release.contents.get(name)!), name);
});

test('--dry-run on an empty target plans the copies and writes nothing; --target local overrides the pillar', async (t) => {
  const project = await publishProject(t, { target: 'github' });
  const target = join(project.cwd, 'published', TAG);
  const plan = await project.run(['--target', 'local', '--dry-run'], {});
  t.is(plan.error, undefined, plan.all);
  t.regex(plan.out, new RegExp(`^create +${target} +folder does not exist$`, 'm'));
  for (const name of project.release.files) t.regex(plan.out, new RegExp(`^upload +${name.replace(/\./g, '\\.')} +new$`, 'm'));
  await t.throwsAsync(stat(target), { code: 'ENOENT' });
  const run = await project.run(['--target', 'local'], {});
  t.is(run.error, undefined, run.all);
  t.is((await readdir(target)).length, project.release.files.length);
});

test('a release file that does not match manifest.json stops publish before anything is copied', async (t) => {
  const project = await localProject(t);
  await writeFile(join(project.release.dir, 'registry-v2.8.3.xz.md5'), 'edited by hand\n');
  const run = await project.run();
  t.regex(run.error?.message ?? '', /nothing was published:\n {2}registry-v2\.8\.3\.xz\.md5: says "edited by hand", expected "[0-9a-f]{32} {2}registry-v2\.8\.3\.xz"/);
  await t.throwsAsync(stat(project.target), { code: 'ENOENT' });
});

test('nothing packaged: a clear error naming the manifest and the task to run', async (t) => {
  const project = await localProject(t);
  await writeFile(join(project.release.dir, 'manifest.json'), '{"schema": 1, "binaries": {}, "files": ["../../etc/passwd"]}');
  const unsafe = await project.run();
  t.regex(unsafe.error?.message ?? '', /manifest\.json is not a manifest corpus-kit wrote \(1 problem\):\n {2}- files\.0: expected file name in the release folder \(no \/ or \.\.\), got "\.\.\/\.\.\/etc\/passwd"/);
  await t.throwsAsync(stat(project.target), { code: 'ENOENT' });
  const { rm } = await import('node:fs/promises');
  await rm(join(project.release.dir, 'manifest.json'));
  const missing = await project.run();
  t.regex(missing.error?.message ?? '', /nothing to publish: .*dist\/release\/manifest\.json does not exist \(run `gulp package` first/);
});
