// Start-up, as ratios measured in one run:
//   - `gulp --tasks` in a consumer project (corpus-kit installed from its packed
//     tarball, the README's plain-JavaScript gulpfile with its plugin) vs. bare
//     gulp 5 with a one-task gulpfile, on the same gulp install (goal: <= 2x);
//   - a no-op `gulp release` (one fixture binary, everything cached: the release
//     stamp says it is up to date) vs. this repository's own `gulp --tasks` in
//     the same project, both through tsx (goal: <= 1.2x); and `release --force`
//     (every step, everything cached), what a no-op cost without the stamp.
// Needs npm (registry or cache), and for the second pair dockerd, git and xz.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject, useGulpCli } from '../test/helpers/build-project.ts';
import { consumerProject } from '../test/helpers/consumer-project.ts';
import { runGulp } from '../test/helpers/gulp.ts';
import { isMain, ratio, row, seconds } from './measure.ts';

const RUNS = 7;

/**
 * Best of RUNS for each of two commands, run alternately: on a shared machine
 * the load changes from one second to the next, and both sides should see it.
 */
async function bestOfPair(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  let [bestA, bestB] = [Infinity, Infinity];
  for (let i = 0; i < RUNS; i++) {
    bestA = Math.min(bestA, await seconds(a));
    bestB = Math.min(bestB, await seconds(b));
  }
  return [bestA, bestB];
}

/** Runs node with `args` in `cwd` and fails unless it exits 0. */
function node(cwd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} (in ${cwd}) exited ${code}:\n${stderr}`))));
  });
}

async function consumerPair(): Promise<string[]> {
  const consumer = await consumerProject('js');
  const gulpBin = join(consumer.dir, 'node_modules/gulp/bin/gulp.js');
  // Bare gulp: a one-task gulpfile next to the same gulp install, no config file.
  const bare = join(consumer.dir, '..', `${consumer.dir.split('/').pop()}-bare`);
  await mkdir(bare);
  process.once('exit', () => rmSync(bare, { recursive: true, force: true }));
  await symlink(join(consumer.dir, 'node_modules'), join(bare, 'node_modules'));
  await writeFile(join(bare, 'gulpfile.mjs'), 'export function one(done) {\n  done();\n}\n');
  await node(consumer.dir, [gulpBin, '--tasks']); // warm the file cache for both
  await node(bare, [gulpBin, '--tasks']);
  const [kit, plain] = await bestOfPair(() => node(consumer.dir, [gulpBin, '--tasks']), () => node(bare, [gulpBin, '--tasks']));
  return [
    row(`consumer: gulp --tasks (corpus-kit + a plugin), best of ${RUNS}`, kit),
    row(`bare gulp 5, one-task gulpfile: gulp --tasks, best of ${RUNS}`, plain),
    ratio('consumer gulp --tasks / bare gulp (goal <= 2.00)', kit, plain),
  ];
}

async function releasePair(): Promise<string[]> {
  const cleanups: (() => unknown)[] = [];
  try {
    const project = await buildProject({ teardown: (fn) => void cleanups.push(fn) }, { names: ['vendored'] });
    await useGulpCli(project.cwd);
    const gulp = async (args: string[]) => {
      const run = await runGulp(project.cwd, args, project.env, 1_800_000);
      if (run.code !== 0) throw new Error(`gulp ${args.join(' ')} failed:\n${run.all}`);
      return run.stderr;
    };
    await gulp(['release', '--pillar', 'pillar.yml']); // cold: builds and publishes once
    if (!/release: up to date/.test(await gulp(['release', '--pillar', 'pillar.yml']))) throw new Error('the second release was not up to date');
    const [noop, tasks] = await bestOfPair(() => gulp(['release', '--pillar', 'pillar.yml']), () => gulp(['--tasks']));
    // Every step, everything cached: what a no-op cost before the release stamp.
    const [forced, tasksAgain] = await bestOfPair(() => gulp(['release', '--pillar', 'pillar.yml', '--force']), () => gulp(['--tasks']));
    return [
      row(`no-op gulp release (everything cached), best of ${RUNS}`, noop),
      row(`the kit's own gulp --tasks, best of ${RUNS}`, tasks),
      ratio('no-op release / gulp --tasks (goal <= 1.20)', noop, tasks),
      row(`gulp release --force (every step, all cached), best of ${RUNS}`, forced),
      ratio('release --force / gulp --tasks (no stamp)', forced, tasksAgain),
    ];
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

export async function startupBench(): Promise<string[]> {
  return [...(await consumerPair()), ...(await releasePair())];
}

if (isMain(import.meta.url)) console.log((await startupBench()).join('\n'));
