// The Go builder recipes, built offline by the kit (cached by tag): their Go is
// new enough for the pinned binaries, and their precompiled standard library is
// exactly what the kit's compile asks for (a build compiles no std package).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { recipeImage } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { GO_BUILD_FLAGS, goEnv, type Layout } from '../lib/gobuild.ts';
import { FIXTURES } from './helpers/build-project.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

test.before(() => requireCommands('docker', 'debootstrap'));

const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const image = async (name: string) => recipeImage(await createContext({ cwd: REPO_ROOT, argv: [] }), name);

/** Import paths of the packages a `go build -x` compiled (the compile tool's -p argument). */
function compiledPackages(log: string): string[] {
  return [...log.matchAll(/\/compile -o \S+ -trimpath .*? -p (\S+)/g)].map((m) => m[1]!).sort();
}

/** Compiles a fixture as the kit does (its env and flags, the image's Go cache), printing every command. */
function buildFixture(ref: string, fixture: string, mount: string, layout: Layout, pkg: string): string {
  const env = Object.entries(goEnv(layout)).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const run = execFileSync('sh', ['-c', 'docker "$@" 2>&1', 'sh', 'run', '--rm', '--network', 'none', '--mount', `type=bind,source=${join(FIXTURES, fixture)},target=${mount},readonly`, '--workdir', mount, ...env, ref, 'go', 'build', '-x', ...GO_BUILD_FLAGS, '-o', '/tmp/out', pkg], { encoding: 'utf8' });
  return run;
}

test('golang-trixie has the Go that docker_auth 1.14 asks for (go.mod: go 1.23.0), built with no image registry', async (t) => {
  const { ref } = await image('golang-trixie');
  const version = docker(['run', '--rm', '--network', 'none', ref, 'go', 'version']).match(/go version go(\d+\.\d+(?:\.\d+)?)/)?.[1];
  t.truthy(version);
  t.true(semver.gte(semver.coerce(version)!, '1.23.0'), `go ${version}`);
  t.is(docker(['image', 'inspect', '--format', '{{index .Config.Labels "corpus-kit.go-cache"}}', ref]).trim(), 'std');
});

for (const recipe of ['golang-bookworm', 'golang-trixie']) {
  test(`${recipe}: a build with the kit's flags compiles only its own packages, the standard library comes from the image's cache`, async (t) => {
    const { ref } = await image(recipe);
    // Module layout with vendored dependencies, and the legacy GOPATH layout: the two warm-ups.
    const vendored = compiledPackages(buildFixture(ref, 'vendored', '/src', 'vendor', '.'));
    t.true(vendored.includes('main'), vendored.join(' '));
    t.deepEqual(vendored.filter((p) => p !== 'main' && !p.split('/')[0]!.includes('.')), [], 'std packages compiled');
    const legacy = compiledPackages(buildFixture(ref, 'legacy', '/go/src/example.org/legacy', 'gopath', './cmd/legacy'));
    t.deepEqual(legacy, ['example.org/legacy/banner', 'main']);
  });
}

test('a recipe is built from scratch under a fresh tag (debootstrap + import, offline), taken from the project\'s own container/recipes/', async (t) => {
  const cwd = await tempDir(t);
  // A tiny recipe whose content (so its tag) is new on every run: the build path runs every time.
  const name = `test-tiny-${randomBytes(5).toString('hex')}`;
  await mkdir(join(cwd, 'container/recipes'), { recursive: true });
  await writeFile(join(cwd, 'container/recipes', `${name}.json`), JSON.stringify({ suite: 'bookworm', variant: 'minbase', env: { CORPUS_KIT_TEST_RUN: name } }));
  let err = '';
  const ctx = await createContext({ cwd, argv: [], pillar: [{ data_root: join(cwd, 'data') }], logger: { err: (s) => void (err += s), out: () => undefined } });
  const built = await recipeImage(ctx, name);
  t.teardown(() => void execFileSync('docker', ['image', 'rm', '--force', built.ref], { stdio: 'ignore' }));
  t.regex(built.ref, new RegExp(`^corpus-kit-recipe/${name}:[0-9a-f]{16}$`));
  t.regex(err, new RegExp(`image ${built.ref.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: debootstrap bookworm \\(minbase\\) from \\S+ \\.\\.\\.\\n.*: done`));
  t.is(built.labels['corpus-kit.recipe'], name);
  t.regex(docker(['run', '--rm', '--network', 'none', built.ref, 'sh', '-c', 'cat /etc/debian_version; echo $CORPUS_KIT_TEST_RUN']), new RegExp(`^12\\.\\d+\\n${name}\\n$`));
  // Asked again, the image is reused, not rebuilt.
  err = '';
  t.is((await recipeImage(ctx, name)).id, built.id);
  t.notRegex(err, /debootstrap/);
});
