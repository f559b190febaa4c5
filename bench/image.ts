// image:build cold, then again with nothing changed, in the same run (issue 10:
// the second under 10% of the first). Cold is the base from its recipe
// (debootstrap + apt-get + pip: minutes, built once per machine and cached by
// its recipe tag, so timed only when this run builds it; 0 s when cached) plus
// --rebuild (every layer above the base, the runtime image with the kit's
// modules included).
// Run: node --import=tsx bench/image.ts
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { imageFor } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { createTasks } from '../tasks/index.ts';
import { DEBIAN_REGISTRY, removeImages, writeRelease } from '../test/helpers/image-project.ts';
import { isMain, ratio, row, seconds } from './measure.ts';

export async function imageBench(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-kit-bench-image-'));
  const name = `corpus-kit-bench-${randomBytes(4).toString('hex')}/registry`;
  try {
    await writeRelease(join(dir, 'dist', 'release'), { registry: { from: DEBIAN_REGISTRY, version: '2.8.2' } });
    const pillar = join(dir, 'pillar.yml');
    await writeFile(pillar, stringify({ data_root: join(dir, 'data'), image: { name, dev_tag: 'bench' }, binaries: { auth_server: { enabled: false } } }));
    const build = (await createTasks({ cwd: dir, argv: ['--pillar', pillar, '--quiet'] }))['image:build']!;
    const cold = (await createTasks({ cwd: dir, argv: ['--pillar', pillar, '--quiet', '--rebuild'] }))['image:build']!;
    const ctx = await createContext({ cwd: dir, argv: ['--pillar', pillar, '--quiet'] });
    const base = await seconds(() => imageFor(ctx, ctx.pillar.image.base, 'image.base'));
    const above = await seconds(cold);
    const warm = await seconds(build);
    const coldSeconds = base + above;
    return [
      row('base image from its recipe (~0 when cached)', base),
      row('image:build --rebuild (every layer above the base)', above),
      row('cold image:build (the two above)', coldSeconds),
      row('image:build, nothing changed', warm),
      ratio('unchanged re-run vs cold', coldSeconds, warm),
      `${'unchanged re-run / cold'.padEnd(52)} ${((warm / coldSeconds) * 100).toFixed(1).padStart(8)} % (goal < 10 %)`,
      `${'unchanged re-run / --rebuild'.padEnd(52)} ${((warm / above) * 100).toFixed(1).padStart(8)} %`,
    ];
  } finally {
    removeImages(name);
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) console.log((await imageBench()).join('\n'));
