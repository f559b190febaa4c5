// Checksum throughput: hashFile (sha256 and md5 from one read) against
// sha256sum alone and against the old way (sha256sum, then md5sum: two reads),
// on a 1 GiB file in the page cache. Prints times and ratios.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { hashFile } from '../lib/hash.ts';
import { best, isMain, ratio, row } from './measure.ts';

export async function checksumBench(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-kit-bench-'));
  try {
    const file = join(dir, 'data.bin');
    // Incompressible content of 1 GiB; read once so every contender reads from the page cache.
    execFileSync('sh', ['-c', 'head -c 1073741824 /dev/urandom > "$1" && cat "$1" > /dev/null', 'sh', file]);
    const $q = $({ quiet: true });
    const kit = await best(3, () => hashFile(file));
    const sha256sum = await best(3, () => $q`sha256sum ${file}`);
    const both = await best(3, async () => {
      await $q`sha256sum ${file}`;
      await $q`md5sum ${file}`;
    });
    return [
      row('hashFile (sha256 + md5, one read), 1 GiB', kit),
      row('sha256sum, 1 GiB', sha256sum),
      row('sha256sum + md5sum (old way), 1 GiB', both),
      ratio('hashFile speed vs sha256sum (1.00 = equal)', sha256sum, kit),
      ratio('hashFile vs sha256sum + md5sum', both, kit),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) console.log((await checksumBench()).join('\n'));
