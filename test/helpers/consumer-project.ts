// A fresh project that installs corpus-kit as a user would: `npm init -y`, then
// `npm install` of the packed tarball and gulp from the registry (npm's cache
// keeps reruns fast), with the files the README shows, run by the project's own
// gulp-cli. Nothing links back into this repository's node_modules.
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, type GulpRun } from './gulp.ts';

const exec = promisify(execFile);

export interface Command {
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: none of the test runner's npm_* settings, INIT_CWD or preloads. */
function shellEnv(cwd: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|INIT_CWD$|NODE_OPTIONS$)/.test(name)));
  return { ...env, PWD: cwd, FORCE_COLOR: '0' };
}

export async function npm(cwd: string, args: readonly string[]): Promise<Command> {
  try {
    return await exec('npm', [...args], { cwd, env: shellEnv(cwd), maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr, stdout } = error as Command;
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed:\n${stderr}${stdout}`);
  }
}

let packed: Promise<string> | undefined;

/** `npm pack` of this repository (its prepack build included), once per test process. */
export function packKit(): Promise<string> {
  packed ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corpus-kit-pack-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await npm(REPO_ROOT, ['pack', '--json', '--pack-destination', dir]);
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
    return join(dir, info!.filename);
  })();
  return packed;
}

/** The files of one README variant ("js" or "ts"): each block marked `<!-- consumer: js/PATH -->`. */
export async function readmeFiles(variant: string): Promise<Map<string, string>> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const files = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- consumer: ([a-z]+)\/(\S+) -->\n```[a-z]*\n([\s\S]*?)```/g)) {
    if (match[1] === variant) files.set(match[2]!, match[3]!);
  }
  return files;
}

export interface ConsumerProject {
  dir: string;
  /** What `npm install` printed (for EBADENGINE and friends). */
  installLog: string;
  gulp(args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<GulpRun>;
}

/** A project made with `npm init -y`, the tarball and gulp installed, the README's files written. */
export async function consumerProject(variant: 'js' | 'ts', devDependencies: readonly string[] = []): Promise<ConsumerProject> {
  const dir = await mkdtemp(join(tmpdir(), `corpus-consumer-${variant}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await npm(dir, ['init', '-y']);
  const install = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
  const logs = [await npm(dir, [...install, await packKit(), 'gulp@5'])];
  if (devDependencies.length > 0) logs.push(await npm(dir, [...install, '--save-dev', ...devDependencies]));
  if (variant === 'ts') await npm(dir, ['pkg', 'set', 'type=module']);
  for (const [path, text] of await readmeFiles(variant)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const gulpBin = join(dir, 'node_modules/gulp/bin/gulp.js');
  return {
    dir,
    installLog: logs.map((l) => `${l.stdout}${l.stderr}`).join(''),
    gulp: (args, options = {}) => runIn(options.cwd ?? dir, [gulpBin, ...args], options.env),
  };
}

/** Runs node with `args` in `cwd` as a shell would: no test-runner environment. */
function runIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<GulpRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { cwd, env: { ...shellEnv(cwd), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, all: `${stdout}${stderr}` });
    });
  });
}
