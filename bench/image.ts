// image:build, cold then again with nothing changed, in the same run (issue 10:
// the second under 10% of the first). "Cold" is every layer above the base:
// a gid of its own makes the service-user layer, and so every layer after it,
// new to the engine; the base image is cached by its recipe tag as in use.
// Run: node --import=tsx bench/image.ts
import { randomBytes, randomInt } from 'node:crypto';
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
    await writeFile(pillar, stringify({ data_root: join(dir, 'data'), editor: { group: 'editor', gid: randomInt(61000, 64999) }, image: { name, dev_tag: 'bench' }, binaries: { auth_server: { enabled: false } } }));
    const tasks = await createTasks({ cwd: dir, argv: ['--pillar', pillar, '--quiet'] });
    const build = tasks['image:build']!;
    // The base on its own first: it is built once per machine, not per image build.
    const ctx = await createContext({ cwd: dir, argv: ['--pillar', pillar, '--quiet'] });
    await imageFor(ctx, ctx.pillar.image.base, 'image.base');
    const cold = await seconds(build);
    const warm = await seconds(build);
    return [row('image:build, cold (every layer above the base)', cold), row('image:build, nothing changed', warm), ratio('unchanged re-run vs cold', cold, warm), `${'unchanged re-run / cold'.padEnd(52)} ${((warm / cold) * 100).toFixed(1).padStart(8)} % (goal < 10 %)`];
  } finally {
    removeImages(name);
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) console.log((await imageBench()).join('\n'));
