// A project directory for the fetch/compile/package tests: upstream bare git
// repositories made from the Go fixtures, a pillar file naming them, a file://
// GOPROXY for the module that downloads its dependency, and the real build
// tasks run in-process (createTasks) with everything they print captured.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runKitTasks } from './tasks.ts';
import { UpstreamRepo } from './gitrepo.ts';
import { REPO_ROOT } from './gulp.ts';
import { publishModule } from './goproxy.ts';

export const FIXTURES = join(REPO_ROOT, 'test/fixtures/go');
export const LDFLAGS = '-X main.version={version} -X main.commit={commit}';

/** The fixture programs and how each is built. */
export const FIXTURE_BUILDS: Record<string, Record<string, unknown>> = {
  vendored: { package: '.' },
  legacy: { gopath: 'example.org/legacy', package: './cmd/legacy' },
  moddep: { package: '.' },
  /** A module in a sub-directory, go 1.23 (so Debian trixie's Go), main.Version/main.BuildID. */
  submod: { builder: { recipe: 'golang-trixie' }, dir: 'server', package: '.', ldflags: '-X main.Version={version} -X main.BuildID={commit}' },
  /** Registry-sized (~10 MB); only the pipeline benchmark builds it. */
  webserver: { package: '.' },
};

/** The programs a project holds unless it names others: the small ones, which keep tests fast. */
const TEST_FIXTURES = ['vendored', 'legacy', 'moddep'];

export interface Run {
  /** Log lines (stderr). */
  err: string;
  out: string;
  error?: Error;
}

type Binaries = Record<string, { source: Record<string, unknown>; build: Record<string, unknown>; enabled?: boolean }>;

export interface BuildProject {
  cwd: string;
  cache: string;
  /** CORPUS_KIT_VOLUME_PREFIX of this project: its own cache volumes, removed in teardown. */
  volumePrefix: string;
  /** The environment the runs get. */
  env: NodeJS.ProcessEnv;
  proxy: string;
  upstream: Record<string, UpstreamRepo>;
  binaries: Binaries;
  /** Writes the pillar file from `binaries` (call after changing them). */
  save(): Promise<void>;
  run(task: string, argv?: readonly string[]): Promise<Run>;
}

export interface ProjectOptions {
  names?: string[];
  /** Upstream repositories to reuse (same commits), instead of new ones. */
  upstream?: Record<string, UpstreamRepo>;
  /** Source cache/build cache directory (CORPUS_KIT_CACHE); a new one per project by default. */
  cache?: string;
  /** More environment for the runs (DOCKER_HOST for another engine, ...). */
  env?: NodeJS.ProcessEnv;
}

/** A test, or a file scope whose projects outlive one test (removed in test.after.always). */
export interface Owner {
  teardown(fn: () => unknown): void;
}

export async function buildProject(owner: Owner, options: ProjectOptions = {}): Promise<BuildProject> {
  const cwd = await mkdtemp(join(tmpdir(), 'corpus-kit-build-'));
  owner.teardown(() => rm(cwd, { recursive: true, force: true }));
  const cache = options.cache ?? join(cwd, 'cache');
  const proxy = join(cwd, 'goproxy');
  const volumePrefix = `corpus-kit-test-${randomBytes(5).toString('hex')}`;
  const env = { ...process.env, CORPUS_KIT_CACHE: cache, CORPUS_KIT_VOLUME_PREFIX: volumePrefix, GOPROXY: `file://${proxy}`, GOSUMDB: 'off', CI: 'true', ...options.env };
  owner.teardown(() => removeVolumes(env, volumePrefix));
  await publishModule(proxy, 'example.com/greet', 'v1.0.0', join(FIXTURES, 'greet'));
  const names = options.names ?? TEST_FIXTURES;
  const upstream: Record<string, UpstreamRepo> = {};
  for (const name of names) {
    upstream[name] = options.upstream?.[name] ?? (await UpstreamRepo.create(join(cwd, 'upstream'), name, join(FIXTURES, name)));
    if (!options.upstream?.[name]) upstream[name].tag('v1.0.0');
  }
  const binaries: Binaries = Object.fromEntries(names.map((name) => [name, {
    source: { git: upstream[name]!.bare, ref: 'v1.0.0' },
    build: { builder: { recipe: 'golang-bookworm' }, ldflags: LDFLAGS, ...FIXTURE_BUILDS[name] },
  }]));
  const project: BuildProject = {
    cwd, cache, volumePrefix, env, proxy, upstream, binaries,
    async save() {
      const pillar = { data_root: join(cwd, 'data'), binaries: { registry: { enabled: false }, auth_server: { enabled: false }, ...binaries } };
      await writeFile(join(cwd, 'pillar.yml'), JSON.stringify(pillar, null, 2));
    },
    async run(task, argv = []) {
      const { out, err, error } = await runKitTasks({ cwd, argv: ['--pillar', join(cwd, 'pillar.yml'), ...argv], env }, [task]);
      return { out, err, error };
    },
  };
  await project.save();
  return project;
}

/** The volumes whose names start with `prefix` on the engine `env` points at. */
export function listVolumes(env: NodeJS.ProcessEnv, prefix: string): string[] {
  const names = execFileSync('docker', ['volume', 'ls', '--quiet', '--filter', `name=${prefix}`], { env, encoding: 'utf8' });
  return names.split('\n').filter((n) => n.startsWith(prefix)).sort();
}

function removeVolumes(env: NodeJS.ProcessEnv, prefix: string): void {
  const names = listVolumes(env, prefix);
  if (names.length) execFileSync('docker', ['volume', 'rm', '--force', ...names], { env, stdio: 'ignore' });
}

/** Every file under `dir` with its sha256 and mtime: a snapshot to prove nothing changed. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else result[relative(dir, path)] = `${createHash('sha256').update(await readFile(path)).digest('hex')} ${(await stat(path)).mtimeMs}`;
    }
  };
  await walk(dir);
  return result;
}

/**
 * Makes `dir` a user's gulp project: gulp and tsx installed, a gulpfile that
 * imports the kit's sources (through tsx). `quiet`: with the kit's gulp config
 * (no gulp-cli loader lines); otherwise a plain one, as a consumer may have.
 */
export async function useGulpCli(dir: string, { quiet = true } = {}): Promise<void> {
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  for (const dep of ['gulp', 'tsx']) await symlink(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
  if (quiet) await writeFile(join(dir, '.gulp.js'), `export { message } from ${JSON.stringify(join(REPO_ROOT, 'gulp-config.cjs'))};\nexport const nodeFlags = ['--import=tsx'];\n`);
  else await writeFile(join(dir, '.gulp.cjs'), "module.exports = { nodeFlags: ['--import=tsx'] };\n");
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  await writeFile(join(dir, 'gulpfile.ts'), `import gulp from 'gulp';\nimport { createTasks, registerTasks } from ${JSON.stringify(join(REPO_ROOT, 'index.ts'))};\nregisterTasks(gulp, await createTasks({ cwd: import.meta.dirname }));\n`);
}
