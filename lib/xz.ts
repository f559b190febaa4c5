// xz with every core and output that does not depend on the machine: the
// multi-threaded encoder's output depends only on the block size (fixed here),
// not on the thread count, and `-T1` would switch to the single-threaded
// encoder (other bytes), so one core is asked for as `+1` (multi-threaded mode).
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from './context.ts';
import { CORES } from './pool.ts';

/** Small enough that a ~20 MB binary splits over several cores (DESIGN §8: ~8 s instead of ~19 s for -9). */
export const XZ_BLOCK_SIZE = '6MiB';

export interface XzSettings {
  level: number;
  extreme: boolean;
}

export function xzArgs({ level, extreme }: XzSettings): string[] {
  return [`--threads=${CORES > 1 ? CORES : '+1'}`, `--block-size=${XZ_BLOCK_SIZE}`, `-${level}${extreme ? 'e' : ''}`];
}

/** Compresses `input` into `output` (written beside it first, so `output` is whole or absent). */
export async function compressFile(ctx: Context, input: string, output: string, settings: XzSettings): Promise<void> {
  const work = `${output}.partial-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const plain = join(work, 'data');
    await copyFile(input, plain);
    // xz replaces data with data.xz itself: no output passes through this process.
    await ctx.sh`xz --quiet --format=xz --check=crc64 ${xzArgs(settings)} -- ${plain}`;
    await rename(`${plain}.xz`, output);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
