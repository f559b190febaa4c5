// fetch on real git: tags and SHAs resolve to the locked commit, the mirror is
// tried first, and every bad pin (moved tag, branch, unknown ref, unreachable
// source) stops the run with a clear message before anything is built, leaving
// dist/ and corpus.lock.json exactly as they were.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildProject, snapshot, useGulpCli, type BuildProject } from './helpers/build-project.ts';
import { git } from './helpers/gitrepo.ts';
import { runGulp } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

test.before(() => requireCommands('git'));

const lockOf = async (project: BuildProject) => JSON.parse(await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8')) as { binaries: Record<string, { ref: string; commit: string }> };

/** A project whose lock and dist/ hold a previous release, for "untouched" checks. */
async function lockedProject(t: ExecutionContext) {
  const project = await buildProject(t, { names: ['vendored', 'legacy'] });
  const first = await project.run('fetch');
  t.is(first.error, undefined, first.err);
  await mkdir(join(project.cwd, 'dist/release'), { recursive: true });
  await writeFile(join(project.cwd, 'dist/release/vendored-v1.0.0.xz'), 'previous release');
  const before = { lock: await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8'), dist: await snapshot(join(project.cwd, 'dist')) };
  const untouched = async () => {
    t.is(await readFile(join(project.cwd, 'corpus.lock.json'), 'utf8'), before.lock, 'corpus.lock.json changed');
    t.deepEqual(await snapshot(join(project.cwd, 'dist')), before.dist, 'dist/ changed');
  };
  return { project, untouched };
}

test('fetch pins annotated tags to their commit and full SHAs to themselves, in corpus.lock.json', async (t) => {
  const project = await buildProject(t, { names: ['vendored', 'legacy'] });
  const sha = project.upstream.legacy!.head();
  project.binaries.legacy!.source.ref = sha;
  await project.save();
  const run = await project.run('fetch');
  t.is(run.error, undefined, run.err);
  const lock = await lockOf(project);
  t.deepEqual(lock.binaries.vendored, { ref: 'v1.0.0', commit: project.upstream.vendored!.head() });
  t.deepEqual(lock.binaries.legacy, { ref: sha, commit: sha });
  // The exported tree is exactly the commit's: files, no .git.
  const tree = join(project.cache, 'trees', sha);
  t.truthy(await readFile(join(tree, 'cmd/legacy/main.go'), 'utf8'));
  await t.throwsAsync(readFile(join(tree, '.git/HEAD')));
  // The source store holds one commit: the fetch was shallow.
  t.is(git(join(project.cache, 'sources/vendored.git'), 'rev-list', '--count', '--all'), '1');
  // Later runs reuse the cache: nothing is fetched again.
  const again = await project.run('fetch');
  t.is(again.error, undefined, again.err);
  t.notRegex(again.err, /fetched/);
});

test('the mirror is used first, and git when the mirror cannot be reached', async (t) => {
  const project = await buildProject(t, { names: ['vendored'] });
  const mirror = join(project.cwd, 'mirror.git');
  git(project.cwd, 'clone', '--quiet', '--mirror', project.upstream.vendored!.bare, mirror);
  project.binaries.vendored!.source.mirror = mirror;
  await project.save();
  const viaMirror = await project.run('fetch');
  t.is(viaMirror.error, undefined, viaMirror.err);
  t.regex(viaMirror.err, new RegExp(`fetched v1\\.0\\.0 \\([0-9a-f]{40}\\) from ${mirror}`));

  const fresh = await buildProject(t, { names: ['vendored'], upstream: project.upstream });
  fresh.binaries.vendored!.source.mirror = join(project.cwd, 'no-such-mirror.git');
  await fresh.save();
  const viaGit = await fresh.run('fetch');
  t.is(viaGit.error, undefined, viaGit.err);
  t.regex(viaGit.err, new RegExp(`from ${project.upstream.vendored!.bare}`));
});

test('a moved tag stops release with the old and new commit, leaving dist/ and the lock untouched; --repin accepts it', async (t) => {
  const { project, untouched } = await lockedProject(t);
  const upstream = project.upstream.vendored!;
  const locked = upstream.head();
  const moved = upstream.commit('main.go', '// tampered\npackage main\nfunc main() {}\n', 'replace the program');
  upstream.tag('v1.0.0', { force: true });
  const run = await project.run('release');
  t.truthy(run.error);
  t.regex(run.error!.message, /binaries\.vendored\.source\.ref: tag "v1\.0\.0" now points to/);
  t.true(run.error!.message.includes(moved) && run.error!.message.includes(locked));
  t.regex(run.error!.message, /--repin/);
  await untouched();

  const repinned = await project.run('fetch', ['--repin']);
  t.is(repinned.error, undefined, repinned.err);
  t.regex(repinned.err, /moved from .* re-pinned \(--repin\)/);
  t.is((await lockOf(project)).binaries.vendored!.commit, moved);
});

test('a branch ref, an unknown ref and an unreachable source each fail clearly and change nothing', async (t) => {
  const { project, untouched } = await lockedProject(t);
  project.upstream.vendored!.branch('release-1.x');
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['branch', { ref: 'release-1.x' }, /binaries\.vendored\.source\.ref: "release-1\.x" is a branch at .*vendored\.git, not a tag/],
    ['unknown ref', { ref: 'v9.9.9' }, /binaries\.vendored\.source\.ref: cannot resolve tag "v9\.9\.9": .*vendored\.git has no tag "v9\.9\.9" \(tags there: v1\.0\.0\)/],
    ['unreachable', { git: join(project.cwd, 'gone.git') }, /binaries\.vendored\.source\.ref: cannot resolve tag "v1\.0\.0": .*gone\.git is unreachable: .*does not appear to be a git repository/],
    ['unknown commit', { ref: 'f'.repeat(40) }, /binaries\.vendored\.source: cannot fetch commit f{40}: .*vendored\.git/],
  ];
  const original = { ...project.binaries.vendored!.source };
  for (const [what, change, message] of cases) {
    project.binaries.vendored!.source = { ...original, ...change };
    await project.save();
    const run = await project.run('release');
    t.truthy(run.error, what);
    t.regex(run.error?.message ?? '', message, what);
    await untouched();
  }
});

test('gulp release on the CLI: a bad pin prints one clear line, no stack trace, exit 1', async (t) => {
  const { project, untouched } = await lockedProject(t);
  project.binaries.legacy!.source.ref = 'v0.0.1';
  await project.save();
  await useGulpCli(project.cwd);
  const run = await runGulp(project.cwd, ['release', '--pillar', 'pillar.yml'], { CORPUS_KIT_CACHE: project.cache });
  t.is(run.code, 1, run.all);
  t.regex(run.stderr, /binaries\.legacy\.source\.ref: cannot resolve tag "v0\.0\.1"/);
  t.notRegex(run.stderr, /at .*\.ts:\d+/);
  await untouched();
});

test('--only limits fetch to the named binaries and refuses unknown names with a suggestion', async (t) => {
  const project = await buildProject(t, { names: ['vendored', 'legacy'] });
  const only = await project.run('fetch', ['--only', 'legacy']);
  t.is(only.error, undefined, only.err);
  t.deepEqual(Object.keys((await lockOf(project)).binaries), ['legacy']);
  const typo = await project.run('fetch', ['--only', 'vendorred']);
  t.regex(typo.error?.message ?? '', /--only: "vendorred" \(did you mean "vendored"\?\)/);
});

test('pins:outdated lists newer tags in semver order, pre-releases apart', async (t) => {
  const project = await buildProject(t, { names: ['vendored'] });
  const upstream = project.upstream.vendored!;
  upstream.tag('v0.9.0');
  for (const [tag, n] of [['v1.10.0', 1], ['v1.2.0', 2], ['v2.0.0-rc.1', 3], ['not-semver-1', 4]] as const) {
    upstream.commit('CHANGES', `change ${n}\n`, tag);
    upstream.tag(tag);
  }
  const run = await project.run('pins:outdated');
  t.is(run.error, undefined, run.err);
  t.is(run.out, 'vendored: v1.0.0 -> newer: v1.2.0, v1.10.0; pre-releases: v2.0.0-rc.1\n');
  project.binaries.vendored!.source.git = join(project.cwd, 'gone.git');
  await project.save();
  const unreachable = await project.run('pins:outdated');
  t.regex(unreachable.out, /vendored: cannot list tags: .*gone\.git is unreachable/);
  t.truthy(unreachable.error);
});

test('credentials in a source URL never show: not in fetch\'s --verbose output, its error, nor pillar:show', async (t) => {
  const project = await buildProject(t, { names: ['vendored'] });
  // A loopback port nothing listens on: the https remotes are unreachable, so fetch takes its error path.
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  const token = 'ghp_UserPartToken0123456789';
  const user = 'deploy-bot-user';
  const password = 'pass%2Fword-in-url';
  project.binaries.vendored!.source = { git: `https://${token}@127.0.0.1:${port}/x.git`, mirror: `https://${user}:${password}@127.0.0.1:${port}/y.git`, ref: 'v1.0.0' };
  await project.save();
  const secrets = [token, user, password, decodeURIComponent(password)];

  const run = await project.run('fetch', ['--verbose']);
  t.truthy(run.error);
  t.regex(run.error?.message ?? '', /127\.0\.0\.1:\d+\/x\.git is unreachable/);
  // The --verbose command echo was captured, and the git command line holds no credentials at all (not even masked).
  t.regex(run.err, /\$ git .*ls-remote .*https:\/\/127\.0\.0\.1:\d+\/x\.git/);
  t.notRegex(run.err, /\$ git .*(\*\*\*|@127)/);
  for (const secret of secrets) {
    for (const [where, text] of [['log', run.err], ['output', run.out], ['error', `${run.error?.message}\n${run.error?.stack}`]]) {
      t.false(text!.includes(secret), `${secret} in the ${where}: ${text}`);
    }
  }

  const show = await project.run('pillar:show');
  t.is(show.error, undefined, show.err);
  t.regex(show.out, /git: https:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\.git/);
  t.regex(show.out, /mirror: https:\/\/\*\*\*@127\.0\.0\.1:\d+\/y\.git/);
  for (const secret of secrets) t.false(show.out.includes(secret) || show.err.includes(secret), `${secret} in pillar:show`);
});

test('a tag moved between resolving it and fetching it is caught after the fetch, on a first build with no lock yet', async (t) => {
  const project = await buildProject(t, { names: ['vendored'] });
  const upstream = project.upstream.vendored!;
  const resolved = upstream.head();
  // The other commit is upstream already (on a branch); the tag moves to it at the moment the kit fetches.
  const moved = upstream.commit('main.go', '// tampered\npackage main\nfunc main() {}\n', 'replace the program');
  const bin = await tempDir(t);
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  await writeFile(join(bin, 'git'), [
    '#!/bin/sh',
    'case " $* " in *" fetch "*)',
    `  [ -e "${bin}/moved" ] || { touch "${bin}/moved"; "${realGit}" -C "${upstream.bare}" update-ref refs/tags/v1.0.0 ${moved}; } ;;`,
    'esac',
    `exec "${realGit}" "$@"`,
    '',
  ].join('\n'));
  await chmod(join(bin, 'git'), 0o755);
  project.env.PATH = `${bin}:${process.env.PATH}`;
  const run = await project.run('fetch');
  t.true(existsSync(join(bin, 'moved')), 'the tag was not moved during the fetch');
  t.regex(run.error?.message ?? '', new RegExp(`^binaries\\.vendored\\.source: cannot fetch tag "v1\\.0\\.0" \\(${resolved}\\): .*fetched ${moved} instead of ${resolved}`), run.err);
  t.false(existsSync(join(project.cwd, 'corpus.lock.json')), 'a lock was written');
  t.deepEqual(await readdir(join(project.cache, 'trees')).catch(() => []), [], 'a tree was exported');
});
