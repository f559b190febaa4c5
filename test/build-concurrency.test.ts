// Two `release --target local` runs with different pins of the same binary,
// started together, ten rounds (issue 7's concurrency acceptance): after each
// round, every archive in dist/release/ and in the publish folder decompresses
// to the binary its manifest names, and `sha256sum -c SHA256SUMS` passes in both.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProject, useGulpCli } from './helpers/build-project.ts';
import { runGulp, type GulpRun } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { verifyRelease } from './helpers/release-check.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'xz', 'flock', 'sha256sum'));

const ROUNDS = 10;

test('two concurrent releases of different pins leave both folders whole and true to their manifests', async (t) => {
  const project = await buildProject(t, { names: ['vendored', 'legacy'] });
  project.upstream.vendored!.tag('v1.0.1');
  await useGulpCli(project.cwd);
  const pillar = JSON.parse(await readFile(join(project.cwd, 'pillar.yml'), 'utf8')) as { binaries: Record<string, { source: { ref: string } }> };
  const pillars = ['v1.0.0', 'v1.0.1'].map((ref) => {
    const file = join(project.cwd, `pillar-${ref}.yml`);
    return { ref, file, text: JSON.stringify({ ...pillar, binaries: { ...pillar.binaries, vendored: { ...pillar.binaries.vendored, source: { ...pillar.binaries.vendored!.source, ref } } } }) };
  });
  for (const p of pillars) await writeFile(p.file, p.text);
  const release = (file: string) => runGulp(project.cwd, ['release', '--target', 'local', '--pillar', file], project.env, 600_000);
  // The first builds one after the other: the rounds then race on the cache, dist/ and the publish folder.
  for (const p of pillars) {
    const warm = await release(p.file);
    t.is(warm.code, 0, warm.all);
  }
  for (let round = 0; round < ROUNDS; round++) {
    const runs: GulpRun[] = await Promise.all(pillars.map((p) => release(p.file)));
    // package and publish hold package.dir's lock through the end of the run: neither run loses its release to the other.
    for (const run of runs) t.is(run.code, 0, run.all);
    const versions = (await verifyRelease(join(project.cwd, 'dist/release'))).join(' ');
    const published = (await verifyRelease(join(project.cwd, 'dist/publish/attachedfiles'))).join(' ');
    t.regex(versions, /^legacy@v1\.0\.0 vendored@v1\.0\.[01]$/, `round ${round}`);
    t.regex(published, /^legacy@v1\.0\.0 vendored@v1\.0\.[01]$/, `round ${round}`);
  }
});
