// xz with every core and output that does not depend on the machine: the
// multi-threaded encoder's output depends only on the block size (fixed here),
// not on the thread count, and `-T1` would switch to the single-threaded
// encoder (other bytes), so one core is asked for as `+1` (multi-threaded mode).
// What is compressed is a private copy checked against the digest it must
// have, and an archive is trusted by what it decompresses to.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';
import { hashFile } from './hash.ts';
import { CORES } from './pool.ts';
import { PARTIAL_SUFFIX } from './atomic.ts';

/** Small enough that a ~20 MB binary splits over several cores (DESIGN §8: ~8 s instead of ~19 s for -9). */
export const XZ_BLOCK_SIZE = '6MiB';

export interface XzSettings {
  level: number;
  extreme: boolean;
}

export function xzArgs({ level, extreme }: XzSettings): string[] {
  return [`--threads=${CORES > 1 ? CORES : '+1'}`, `--block-size=${XZ_BLOCK_SIZE}`, `-${level}${extreme ? 'e' : ''}`];
}

/**
 * Compresses `input`, which must have the sha256 `expected`, into `output`
 * (written beside it first, so `output` is whole or absent). The input is
 * copied first and the copy is what is checked and compressed: a change to
 * `input` while this runs cannot reach the archive.
 */
export async function compressFile(ctx: Context, input: string, output: string, settings: XzSettings, expected: string): Promise<void> {
  const work = `${output}${PARTIAL_SUFFIX}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const plain = join(work, 'data');
    await copyFile(input, plain);
    const { sha256 } = await hashFile(plain);
    if (sha256 !== expected) throw new UserError(`${input} is not the binary compile verified (sha256 ${sha256}, expected ${expected}): it changed after compile; run again`);
    // xz replaces data with data.xz itself: no output passes through this process.
    await ctx.sh`xz --quiet --format=xz --check=crc64 ${xzArgs(settings)} -- ${plain}`;
    await rename(`${plain}.xz`, output);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The sha256 of what `archive` decompresses to, or undefined when xz cannot
 * decompress it. The output is streamed into the hash (tens of MB that
 * neither the logger nor a buffer should hold), so xz is spawned directly,
 * with its arguments as a list.
 */
export function decompressedSha256(archive: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const child = spawn('xz', ['--decompress', '--stdout', '--', archive], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (chunk: Buffer) => hash.update(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? hash.digest('hex') : undefined));
  });
}
