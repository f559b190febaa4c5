// kill -9 of `package` at random moments, 20 rounds (issue 7's crash
// acceptance for package): after each, the next run succeeds and dist/release
// verifies (sha256sum -c, every archive decompresses to the binary its manifest
// names), no leftover of the killed run stays, and nothing outside dist/, the
// cache and the publish folder is touched: a sentinel tree, and folders in dist/
// whose names only look like the kit's leftovers, hash the same before and after.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject, snapshot, useGulpCli } from './helpers/build-project.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { verifyRelease } from './helpers/release-check.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz', 'flock', 'sha256sum'));

const ROUNDS = 20;
const GULP = join(REPO_ROOT, 'node_modules/gulp/bin/gulp.js');

/** What the runner says (--verbose) as the package step starts, after fetch and compile. */
const PACKAGE_STARTS = /^package: start$/m;

interface Cut {
  code: number | null;
  output: string;
  /** ms from the start, and from the package step's first line, to the end. */
  total: number;
  packaging: number;
}

/**
 * `gulp package` in its own process group, killed -9 (the whole group) `ms`
 * after it starts, or after the package step starts when `inPackage`;
 * resolves once it is gone.
 */
function packageKilledAfter(cwd: string, pillar: string, env: NodeJS.ProcessEnv, ms: number, inPackage = false): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let packaging: number | undefined;
    const child = spawn(process.execPath, [GULP, '--cwd', cwd, 'package', '--verbose', '--pillar', pillar], { cwd, env: { ...env, FORCE_COLOR: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone: it finished before its moment.
        }
      }, ms);
    };
    const read = (chunk: Buffer) => {
      output += chunk;
      if (packaging === undefined && PACKAGE_STARTS.test(output)) {
        packaging = performance.now();
        if (inPackage) arm();
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    if (!inPackage) arm();
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const end = performance.now();
      resolve({ code, output, total: end - started, packaging: end - (packaging ?? end) });
    });
  });
}

test('package killed -9 at random moments: the next run succeeds, the release verifies, nothing else is touched', async (t) => {
  const project = await buildProject(t, { names: ['vendored', 'legacy'] });
  project.upstream.vendored!.tag('v1.0.1');
  await useGulpCli(project.cwd);
  const base = JSON.parse(await readFile(join(project.cwd, 'pillar.yml'), 'utf8')) as { binaries: Record<string, { source: Record<string, unknown> }> };
  const pillars: Record<string, string> = {};
  for (const ref of ['v1.0.0', 'v1.0.1']) {
    pillars[ref] = join(project.cwd, `pillar-${ref}.yml`);
    await writeFile(pillars[ref]!, JSON.stringify({ ...base, binaries: { ...base.binaries, vendored: { ...base.binaries.vendored, source: { ...base.binaries.vendored!.source, ref } } } }));
  }
  const sentinel = join(project.cwd, 'sentinel');
  await mkdir(join(sentinel, 'nested/deeper'), { recursive: true });
  for (const file of ['a.txt', 'nested/b.bin', 'nested/deeper/c.txt']) await writeFile(join(sentinel, file), `sentinel ${file}\n`.repeat(100));
  const lookAlikes = ['release.old-7', 'release.staging-8', 'release.old-', '.release.corpus-kit-journal.partial-9'];
  for (const name of lookAlikes) {
    await mkdir(join(project.cwd, 'dist', name), { recursive: true });
    await writeFile(join(project.cwd, 'dist', name, 'keep.txt'), name);
  }
  const untouched = async () => ({ sentinel: await snapshot(sentinel), dist: Object.fromEntries(Object.entries(await snapshot(join(project.cwd, 'dist'))).filter(([path]) => lookAlikes.some((n) => path.startsWith(`${n}/`)))) });
  const before = await untouched();
  const run = (ref: string) => project.run('package', ['--pillar', pillars[ref]!]);
  // Every build and archive cached, and how long an uncut run takes: the kills fall anywhere in it.
  for (const ref of ['v1.0.1', 'v1.0.0']) t.is((await run(ref)).error, undefined);
  const uncut = await packageKilledAfter(project.cwd, pillars['v1.0.1']!, project.env, 600_000);
  t.is(uncut.code, 0, uncut.output);
  const outcomes = { killed: 0, finished: 0, swapped: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const ref = round % 2 === 0 ? 'v1.0.0' : 'v1.0.1';
    const previous = JSON.parse(await readFile(join(project.cwd, 'dist/release/manifest.json'), 'utf8')) as { binaries: { vendored: { version: string } } };
    // Every other round the kill falls inside the package step itself (its swap is a few ms of it).
    const inPackage = round % 4 < 2;
    const killed = await packageKilledAfter(project.cwd, pillars[ref]!, project.env, Math.random() * (inPackage ? uncut.packaging : uncut.total), inPackage);
    outcomes[killed.code === 0 ? 'finished' : 'killed']++;
    // Whatever the moment, what is there is one whole release: the previous one, or the new one.
    const left = await verifyRelease(join(project.cwd, 'dist/release'));
    if (!left.includes(`vendored@${previous.binaries.vendored.version}`)) outcomes.swapped++;
    const next = await run(ref);
    t.is(next.error, undefined, `round ${round}: ${next.err}`);
    t.deepEqual(await verifyRelease(join(project.cwd, 'dist/release')), ['legacy@v1.0.0', `vendored@${ref}`], `round ${round}`);
    const dist = (await readdir(join(project.cwd, 'dist'))).filter((f) => /release/.test(f) && !lookAlikes.includes(f)).sort();
    // The journal's partial name is fixed (written under the lock): a killed run's is overwritten and renamed by the next;
    // a killed run's lock file is a free lock, which the next run takes and removes.
    t.deepEqual(dist, ['.release.corpus-kit-journal', 'release'], `round ${round}: leftovers`);
    t.deepEqual(await untouched(), before, `round ${round}: touched outside the kit's folders`);
  }
  t.log(`uncut run ${(uncut.total / 1000).toFixed(1)}s, its package step ${Math.round(uncut.packaging)}ms; ${outcomes.killed} killed, ${outcomes.finished} finished first, ${outcomes.swapped} left the new release in place`);
});
