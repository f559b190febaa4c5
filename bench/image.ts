// image:build cold (--rebuild: every layer above the base, the runtime image
// with the kit's modules included), then again with nothing changed, in the same
// run (issue 10: the second under 10% of the first). The base (debootstrap +
// apt-get, minutes) is built once per machine and cached by its recipe tag; it
// is built first, outside the measure, when missing.
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
    await imageFor(ctx, ctx.pillar.image.base, 'image.base');
    const coldSeconds = await seconds(cold);
    const warm = await seconds(build);
    return [row('image:build --rebuild (every layer above the base)', coldSeconds), row('image:build, nothing changed', warm), ratio('unchanged re-run vs cold', coldSeconds, warm), `${'unchanged re-run / cold'.padEnd(52)} ${((warm / coldSeconds) * 100).toFixed(1).padStart(8)} % (goal < 10 %)`];
  } finally {
    removeImages(name);
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) console.log((await imageBench()).join('\n'));
