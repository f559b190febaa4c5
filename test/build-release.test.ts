// release on a real dockerd with the kit's offline builder recipe: three Go
// programs (vendored module, legacy GOPATH layout, module with a downloaded
// dependency) are fetched from tagged bare repos, compiled in containers,
// packaged with checksums; reruns rebuild exactly what changed.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recipeImage } from '../container/recipes.ts';
import { volumePrefix } from '../lib/container.ts';
import { createContext, type Context } from '../lib/context.ts';
import { goCacheVolume } from '../lib/gobuild.ts';
import type { Manifest } from '../lib/manifest.ts';
import { buildProject, LDFLAGS, type BuildProject, type Run } from './helpers/build-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz'));

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const run = (file: string) => execFileSync(file, { encoding: 'utf8' }).trim();
const release = (p: BuildProject) => join(p.cwd, 'dist/release');
const manifestOf = async (p: BuildProject) => JSON.parse(await readFile(join(release(p), 'manifest.json'), 'utf8')) as Manifest;
/** Per binary compiled by a run, how many packages `go build -v` compiled, and how many of them were the standard library's. */
const packagesCompiled = (r: Run) => Object.fromEntries([...r.err.matchAll(/^\[(\w+)\] go build .*: done, .* (\d+) packages compiled \((\d+) of the standard library\)/gm)].map((m) => [m[1]!, { all: Number(m[2]), std: Number(m[3]) }]));
/** Which binaries a run compiled (as opposed to took from the build cache). */
const compiled = (r: Run) => [...r.err.matchAll(/^\[(\w+)\] go build .*: done/gm)].map((m) => m[1]).sort();
const cachedBuilds = (r: Run) => [...r.err.matchAll(/^\[(\w+)\] cached .* not rebuilt$/gm)].map((m) => m[1]).sort();

function ok(t: { is(a: unknown, b: unknown, m?: string): void }, r: Run): void {
  t.is(r.error?.message, undefined, r.err);
}

// One project the serial tests below build on: each step starts from the state the previous one left.
let project: BuildProject;
const cleanups: (() => unknown)[] = [];
const fileScope = { teardown: (fn: () => unknown) => void cleanups.push(fn) };
test.after.always(async () => {
  for (const fn of cleanups) await fn();
});

test.serial('release compiles every layout in containers, {version} and {commit} reach the binaries, checksums verify', async (t) => {
  project = await buildProject(fileScope);
  const r = await project.run('release');
  ok(t, r);
  t.deepEqual(compiled(r), ['legacy', 'moddep', 'vendored']);
  t.regex(r.err, /\[moddep\] module download: done/);
  // A binary's compression starts as soon as it is built, while another one still compiles.
  const lines = r.err.split('\n');
  const lastBuilt = lines.length - 1 - [...lines].reverse().findIndex((l) => /^\[\w+\] go build .*: done/.test(l));
  const firstXz = lines.findIndex((l) => /^\[\w+\] xz .* \.\.\.$/.test(l));
  t.true(firstXz >= 0 && firstXz < lastBuilt, r.err);
  t.regex(r.err, /^\[\w+\] \w+-v1\.0\.0\.xz compressed as soon as it was compiled$/m);
  const lock = JSON.parse(await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8')) as { binaries: Record<string, { commit: string }> };
  const greeting: Record<string, string> = { vendored: 'hello from vendored', legacy: 'legacy gopath build', moddep: 'hello from moddep' };
  for (const name of ['vendored', 'legacy', 'moddep']) {
    const commit = lock.binaries[name]!.commit;
    t.is(commit, project.upstream[name]!.head());
    t.is(run(join(project.cwd, 'dist/bin', name)), `${greeting[name]} version=v1.0.0 commit=${commit}`);
    // The packaged archive holds the same program.
    t.is(execFileSync('sh', ['-c', 'xz -dc "$1" > "$2" && chmod +x "$2" && "$2"', 'sh', join(release(project), `${name}-v1.0.0.xz`), join(project.cwd, `${name}.unpacked`)], { encoding: 'utf8' }).trim(), `${greeting[name]} version=v1.0.0 commit=${commit}`);
    t.regex(execFileSync('md5sum', ['-c', `${name}-v1.0.0.xz.md5`], { cwd: release(project), encoding: 'utf8' }), new RegExp(`^${name}-v1\\.0\\.0\\.xz: OK$`, 'm'));
    t.regex(execFileSync('sha256sum', ['-c', `${name}-v1.0.0.xz.sha256`], { cwd: release(project), encoding: 'utf8' }), /: OK/);
  }
  t.is(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: release(project), encoding: 'utf8' }), ['legacy', 'moddep', 'vendored'].map((n) => `${n}-v1.0.0.xz: OK\n`).join(''));
  const manifest = await manifestOf(project);
  t.deepEqual(manifest.files, (await readdir(release(project))).sort());
  const vendored = manifest.binaries.vendored!;
  t.like(vendored, { version: 'v1.0.0', ref: 'v1.0.0', commit: lock.binaries.vendored!.commit, file: 'vendored-v1.0.0.xz' });
  t.regex(vendored.builder_image_id, /^sha256:[0-9a-f]{64}$/);
  t.is(execFileSync('md5sum', [join(release(project), vendored.file)], { encoding: 'utf8' }).split(' ')[0], vendored.md5);
  // release ends with publish: the embedded default target is a local folder named after the tag.
  const published = join(project.cwd, 'dist/publish/attachedfiles');
  t.deepEqual((await readdir(published)).sort(), manifest.files);
  t.is(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: published, encoding: 'utf8' }), ['legacy', 'moddep', 'vendored'].map((n) => `${n}-v1.0.0.xz: OK\n`).join(''));
});

test.serial('a re-run with nothing changed rebuilds and recompresses nothing, and says so', async (t) => {
  const before = await readFile(join(release(project), 'SHA256SUMS'), 'utf8');
  const r = await project.run('release');
  ok(t, r);
  t.deepEqual(compiled(r), []);
  t.deepEqual(cachedBuilds(r), ['legacy', 'moddep', 'vendored']);
  t.notRegex(r.err, /module download|xz --threads/);
  t.is(await readFile(join(release(project), 'SHA256SUMS'), 'utf8'), before);
});

test.serial('a changed pin rebuilds only that binary, and its old archive leaves dist/release', async (t) => {
  const upstream = project.upstream.legacy!;
  upstream.commit('banner/banner.go', 'package banner\n\nfunc Line() string { return "legacy gopath build, second release" }\n', 'second release');
  upstream.tag('v1.1.0');
  project.binaries.legacy!.source.ref = 'v1.1.0';
  await project.save();
  const r = await project.run('release');
  ok(t, r);
  t.deepEqual(compiled(r), ['legacy']);
  t.deepEqual(cachedBuilds(r), ['moddep', 'vendored']);
  t.is(run(join(project.cwd, 'dist/bin/legacy')), `legacy gopath build, second release version=v1.1.0 commit=${upstream.head()}`);
  const files = await readdir(release(project));
  t.true(files.includes('legacy-v1.1.0.xz'));
  t.false(files.some((f) => f.startsWith('legacy-v1.0.0')), files.join(' '));
  t.regex(await readFile(join(release(project), 'SHA256SUMS'), 'utf8'), /legacy-v1\.1\.0\.xz\n/);
});

test.serial('a changed build setting rebuilds only that binary', async (t) => {
  project.binaries.vendored!.build.ldflags = `${LDFLAGS} -s -w`;
  await project.save();
  const r = await project.run('release');
  ok(t, r);
  t.deepEqual(compiled(r), ['vendored']);
  t.regex(run(join(project.cwd, 'dist/bin/vendored')), /version=v1\.0\.0/);
});

test.serial('a damaged cached output is detected and rebuilt to the same bytes', async (t) => {
  const before = (await manifestOf(project)).binaries.moddep!;
  const built = sha256(await readFile(join(project.cwd, 'dist/bin/moddep')));
  const entries = await readdir(join(project.cache, 'build'));
  let damaged = 0;
  for (const entry of entries) {
    const binary = join(project.cache, 'build', entry, 'binary');
    const bytes = await readFile(binary);
    if (!run(binary).startsWith('hello from moddep')) continue;
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(binary, bytes);
    damaged++;
  }
  t.is(damaged, 1);
  const r = await project.run('release');
  ok(t, r);
  t.regex(r.err, /\[moddep\] cached output .* is damaged \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); rebuilding/);
  t.deepEqual(compiled(r), ['moddep']);
  // The rebuilt binary itself, in dist/bin and in the cache, is the one built before the damage.
  t.is(sha256(await readFile(join(project.cwd, 'dist/bin/moddep'))), built);
  const rebuilt = (await readdir(join(project.cache, 'build'))).map((entry) => join(project.cache, 'build', entry, 'binary')).filter((binary) => run(binary).startsWith('hello from moddep'));
  t.deepEqual(await Promise.all(rebuilt.map(async (binary) => sha256(await readFile(binary)))), [built]);
  t.is((await manifestOf(project)).binaries.moddep!.sha256, before.sha256);
});

test.serial('--only packages just the named binary and keeps the others in the release; a disabled binary leaves it', async (t) => {
  const only = await project.run('package', ['--only', 'moddep']);
  ok(t, only);
  t.notRegex(only.err, /\[(legacy|vendored)\]/);
  t.deepEqual(Object.keys((await manifestOf(project)).binaries).sort(), ['legacy', 'moddep', 'vendored']);
  t.regex(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: release(project), encoding: 'utf8' }), /vendored-v1\.0\.0\.xz: OK/);

  project.binaries.moddep!.enabled = false;
  await project.save();
  // Another run's copy in progress (its own pid) is not this run's to remove.
  const otherRun = join(project.cwd, 'dist/bin/vendored.partial-4242');
  await writeFile(otherRun, 'another run');
  const r = await project.run('release');
  ok(t, r);
  t.deepEqual((await readdir(release(project))).filter((f) => f.startsWith('moddep')), []);
  t.deepEqual((await readdir(join(project.cwd, 'dist/bin'))).sort(), ['legacy', 'vendored', 'vendored.partial-4242']);
  await rm(otherRun);
});

test.serial('two cold builds of the same pins, in other directories and under another clock, compile everything and give byte-identical binaries and SHA256SUMS, with and without the image\'s precompiled standard library', async (t) => {
  const names = ['legacy', 'moddep', 'vendored'];
  const upstream = await buildProject(t, { names });
  const cold = await buildProject(t, { names, upstream: upstream.upstream, env: { TZ: 'Pacific/Kiritimati' } });
  const contexts = await Promise.all([upstream, cold].map((p) => createContext({ cwd: p.cwd, argv: ['--pillar', join(p.cwd, 'pillar.yml')], env: p.env })));
  const image = await recipeImage(contexts[1]!, 'golang-bookworm');
  // Each run's own places, as its context has them: nothing shared between the two.
  const [ctxA, ctxB] = contexts as [Context, Context];
  t.not(ctxA.cwd, ctxB.cwd);
  t.not(ctxA.paths.cache, ctxB.paths.cache);
  const volumes = contexts.map((ctx) => goCacheVolume(volumePrefix(ctx), image.id));
  t.not(volumes[0], volumes[1]);
  // The second project's Go cache volume exists and is not empty before its first build, so the
  // engine copies nothing from the image into it: that build compiles the standard library itself.
  execFileSync('docker', ['run', '--rm', '--network', 'none', '--mount', `type=volume,source=${volumes[1]},target=/empty`, image.ref, 'touch', '/empty/.no-warm-cache']);
  const first = await upstream.run('release');
  ok(t, first);
  // Another clock for the second build's inputs: its source trees carry other timestamps.
  ok(t, await cold.run('fetch'));
  execFileSync('find', [join(cold.cache, 'trees'), '-exec', 'touch', '-h', '-d', '2001-02-03 04:05:06', '{}', '+']);
  const second = await cold.run('release');
  ok(t, second);
  t.is(execFileSync('docker', ['run', '--rm', '--network', 'none', '--mount', `type=volume,source=${volumes[1]},target=/c`, image.ref, 'ls', '-a', '/c'], { encoding: 'utf8' }).includes('.no-warm-cache'), true);
  // Each run says, from go build -v, what it compiled: every binary in both; the standard library only in the second.
  const [a, b] = [first, second].map(packagesCompiled);
  t.deepEqual(Object.keys(a!).sort(), names, first.err);
  t.deepEqual(Object.keys(b!).sort(), names, second.err);
  for (const name of names) t.true(a![name]!.all > 0 && b![name]!.all > 0, name);
  t.is(Object.values(a!).reduce((n, c) => n + c.std, 0), 0, first.err);
  t.true(Object.values(b!).reduce((n, c) => n + c.std, 0) >= 20, second.err);
  for (const name of names) t.deepEqual(await readFile(join(upstream.cwd, 'dist/bin', name)), await readFile(join(cold.cwd, 'dist/bin', name)), name);
  const sums = await readFile(join(release(upstream), 'SHA256SUMS'), 'utf8');
  t.is(sums.split('\n').filter(Boolean).length, 3);
  t.is(await readFile(join(release(cold), 'SHA256SUMS'), 'utf8'), sums);
});
