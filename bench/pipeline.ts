// The release pipeline against the old sequential way, on the Go fixture
// programs, in the same run and on the same builder image:
//   - cold `gulp release` of the three test programs and a registry-sized one (empty caches; the recipe image brings its
//     precompiled standard library) vs. full clone, one `go build` container
//     after the other, `xz -9e` single-threaded, `md5sum`;
//   - a no-op `gulp release` (everything cached) vs. `gulp --tasks` start-up.
// Needs dockerd, git, debootstrap (for the builder recipe, built once) and xz.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { $ } from 'zx';
import { recipeImage } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { buildProject, FIXTURE_BUILDS, useGulpCli, type BuildProject } from '../test/helpers/build-project.ts';
import { runGulp } from '../test/helpers/gulp.ts';
import { best, isMain, ratio, row, seconds } from './measure.ts';

const $q = $({ quiet: true });

/**
 * The old release helper: everything from scratch, one binary after the other.
 * `goFlags`: its own plain `go build`, or the kit's reproducible flags (with
 * -trimpath Debian's precompiled standard library cannot be used, so those
 * builds compile it: the same work the kit's cold build does).
 */
async function sequential(project: BuildProject, image: string, work: string, goFlags: string[]): Promise<void> {
  for (const [name, upstream] of Object.entries(project.upstream)) {
    const build = FIXTURE_BUILDS[name]!;
    const src = join(work, name);
    await $q`git clone --quiet ${upstream.bare} ${src}`;
    await $q`git -C ${src} checkout --quiet v1.0.0`;
    const mount = typeof build.gopath === 'string' ? posix.join('/go/src', build.gopath) : '/src';
    const mode = typeof build.gopath === 'string' ? ['-e', 'GO111MODULE=off', '-e', 'GOPATH=/go'] : ['-e', 'GO111MODULE=on'];
    await $q`docker run --rm --network host -v ${`${src}:${mount}`} -v ${`${project.proxy}:${project.proxy}:ro`} -v ${`${work}:/out`} -w ${mount} ${mode} -e CGO_ENABLED=0 -e ${`GOPROXY=file://${project.proxy}`} -e GOSUMDB=off ${image} go build ${goFlags} -o ${`/out/${name}.bin`} ${build.package as string}`;
    await $q`xz -9e -T1 -k ${join(work, `${name}.bin`)}`;
    await $q`md5sum ${join(work, `${name}.bin.xz`)}`;
  }
}

export async function pipelineBench(): Promise<string[]> {
  const cleanups: (() => unknown)[] = [];
  const owner = { teardown: (fn: () => unknown) => void cleanups.push(fn) };
  try {
    const project = await buildProject(owner, { names: Object.keys(FIXTURE_BUILDS) });
    await useGulpCli(project.cwd);
    // The project's own volume prefix: its Go cache volumes are new (cold, but for the standard
    // library the builder image carries) and removed at the end.
    const env = (cache: string) => ({ CORPUS_KIT_CACHE: cache, CORPUS_KIT_VOLUME_PREFIX: project.volumePrefix, GOPROXY: `file://${project.proxy}`, GOSUMDB: 'off' });
    const gulp = async (args: string[], cache: string) => {
      const run = await runGulp(project.cwd, args, env(cache), 1_800_000);
      if (run.code !== 0) throw new Error(`gulp ${args.join(' ')} failed:\n${run.all}`);
    };
    // The builder image is made once beforehand: both ways use it, neither pays for it.
    const ctx = await createContext({ cwd: project.cwd, argv: ['--pillar', join(project.cwd, 'pillar.yml')] });
    const image = await recipeImage(ctx, 'golang-bookworm');

    const oldWay = async (goFlags: string[]) => {
      const work = await mkdtemp(join(tmpdir(), 'corpus-kit-bench-old-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      return seconds(() => sequential(project, image.ref, work, goFlags));
    };
    const oldPlain = await oldWay(['-ldflags=-X main.version=v1.0.0']);
    const oldRepro = await oldWay(['-trimpath', '-ldflags=-buildid= -X main.version=v1.0.0']);

    const cache = join(project.cwd, 'cold-cache');
    await mkdir(cache);
    const cold = await seconds(() => gulp(['release', '--pillar', 'pillar.yml'], cache));
    const noop = await best(3, () => gulp(['release', '--pillar', 'pillar.yml'], cache));
    const startup = await best(3, () => gulp(['--tasks'], cache));
    const names = Object.keys(project.upstream).join(', ');
    return [
      row(`old sequential way, plain go build (${names})`, oldPlain),
      row('old sequential way, reproducible go flags', oldRepro),
      row('gulp release, cold caches', cold),
      row('gulp release, no-op (everything cached), best of 3', noop),
      row('gulp --tasks start-up, best of 3', startup),
      ratio('cold: old way (plain) / gulp release', oldPlain, cold),
      ratio('cold: old way (same go flags) / gulp release', oldRepro, cold),
      ratio('no-op release / gulp start-up (1.00 = as fast as start-up)', noop, startup),
    ];
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

if (isMain(import.meta.url)) console.log((await pipelineBench()).join('\n'));
