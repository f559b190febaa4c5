// Where the time of a cold `release` goes, phase by phase, on the Go fixture
// programs (a GOPATH layout, a module with a downloaded dependency, a
// registry-sized module), so a change to the pipeline can be measured the same
// way: start-up, fetch, container start, module download, compile, compress,
// hash, publish. The build steps are timed from the run's own log lines as they
// arrive (each step's start and end, each progress line's start and end);
// start-up, a container's create/start/remove and a hash pass are measured
// beside it. Phases overlap (binaries build side by side), so the shares of the
// wall time may add up to more than 100%.
// Needs dockerd, git, debootstrap (for the builder recipe, built once) and xz.
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { recipeImage } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { hashFile } from '../lib/hash.ts';
import { buildProject, useGulpCli } from '../test/helpers/build-project.ts';
import { runGulp } from '../test/helpers/gulp.ts';
import { best, isMain } from './measure.ts';

const PROGRAMS = ['legacy', 'moddep', 'webserver'];

/** A log line and when it arrived, in seconds from the start of the run. */
interface Line {
  at: number;
  text: string;
}

/** Seconds between a line matching `start` and the next one matching `end`, for each start. */
function spans(lines: Line[], start: RegExp, end: (first: RegExpMatchArray) => RegExp): { label: string; from: number; to: number }[] {
  const found: { label: string; from: number; to: number }[] = [];
  for (const [i, line] of lines.entries()) {
    const first = line.text.match(start);
    if (!first) continue;
    const close = end(first);
    const last = lines.slice(i + 1).find((l) => close.test(l.text));
    if (!last) throw new Error(`profile: "${line.text}" has no end line in the run's log`);
    found.push({ label: first[1] ?? first[0], from: line.at, to: last.at });
  }
  return found;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Time covered by any of the spans (overlapping spans count once): the phase's share of the wall time. */
function covered(parts: { from: number; to: number }[]): number {
  let total = 0;
  let reach = -Infinity;
  for (const { from, to } of [...parts].sort((a, b) => a.from - b.from)) {
    if (to > reach) total += to - Math.max(from, reach);
    reach = Math.max(reach, to);
  }
  return total;
}

export async function profileBench(): Promise<string[]> {
  const cleanups: (() => unknown)[] = [];
  const owner = { teardown: (fn: () => unknown) => void cleanups.push(fn) };
  try {
    const project = await buildProject(owner, { names: PROGRAMS });
    await useGulpCli(project.cwd);
    const ctx = await createContext({ cwd: project.cwd, argv: ['--pillar', join(project.cwd, 'pillar.yml')], env: project.env });
    // The builder image is made beforehand (once per machine, not part of a release).
    const image = await recipeImage(ctx, 'golang-bookworm');

    const startup = await best(3, () => runGulp(project.cwd, ['--tasks'], project.env));
    // The cold release, in-process (start-up is measured above), every log line stamped as it arrives.
    const lines: Line[] = [];
    const started = performance.now();
    let pending = '';
    const { createTasks } = await import('../index.ts');
    const tasks = await createTasks({
      cwd: project.cwd, argv: ['--pillar', join(project.cwd, 'pillar.yml'), '--verbose'], env: project.env,
      logger: {
        out: () => undefined,
        err: (chunk) => {
          pending += chunk;
          const parts = pending.split('\n');
          pending = parts.pop() ?? '';
          for (const text of parts) lines.push({ at: (performance.now() - started) / 1000, text });
        },
      },
    });
    await tasks.release!();
    const wall = (performance.now() - started) / 1000;

    const steps = spans(lines, /^(fetch|compile|package|publish\S*): start$/, (m) => new RegExp(`^${escape(m[1]!)}: done in`));
    const step = (name: string) => steps.filter((s) => s.label === name || s.label.startsWith(`${name}:`));
    const progress = (what: RegExp) => spans(lines, new RegExp(`^(\\[\\w+\\] ${what.source}.*) \\.\\.\\.$`), (m) => new RegExp(`^${escape(m[1]!)}: (done|FAILED)`));
    const downloads = progress(/module download/);
    const compiles = progress(/go build/);
    const compressions = progress(/xz /);
    const containers = lines.filter((l) => / (create|run) .*--label corpus-kit /.test(l.text) || /^\$ docker (create|run) /.test(l.text)).length;
    const container = await best(3, async () => {
      const id = execFileSync('docker', ['create', '--network', 'none', image.ref, 'true'], { encoding: 'utf8' }).trim();
      execFileSync('docker', ['start', '--attach', id]);
      execFileSync('docker', ['rm', '--force', id], { stdio: 'ignore' });
    });
    const files = [
      ...(await readdir(join(project.cwd, 'dist/bin'))).map((f) => join(project.cwd, 'dist/bin', f)),
      ...(await readdir(join(project.cwd, 'dist/release'))).filter((f) => f.endsWith('.xz')).map((f) => join(project.cwd, 'dist/release', f)),
    ];
    const hash = await best(3, () => Promise.all(files.map((f) => hashFile(f))));

    const rows: [string, number, string][] = [
      ['start-up (gulp --tasks, best of 3)', startup, 'process start, before the first step'],
      ['fetch', covered(step('fetch')), ''],
      ['container start (create, start, rm)', container * containers, `${containers} containers x ${container.toFixed(2)} s`],
      ['module download', covered(downloads), `${downloads.length} binaries`],
      ['compile (go build)', covered(compiles), `${compiles.length} binaries, side by side`],
      ['compress (xz)', covered(compressions), `${compressions.length} archives`],
      ['hash (sha256+md5, one read)', hash, `${files.length} files, binaries and archives`],
      ['publish', covered(step('publish')), 'local target'],
      ['release wall time (in-process)', wall, 'start-up not included'],
    ];
    return [
      `${'phase'.padEnd(40)} ${'seconds'.padStart(8)} ${'of wall'.padStart(8)}  note`,
      ...rows.map(([label, value, note]) => `${label.padEnd(40)} ${value.toFixed(2).padStart(8)} ${`${((value / wall) * 100).toFixed(0)}%`.padStart(8)}  ${note}`),
    ];
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

if (isMain(import.meta.url)) console.log((await profileBench()).join('\n'));
