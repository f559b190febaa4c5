// Where the archive cache keeps a binary's archive: a content address of the
// binary and the xz settings. package reads and fills it; the release stamp
// records the entries a release came from.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { XZ_BLOCK_SIZE, xzArgs, type XzSettings } from './xz.ts';

/** Bumped when the archive format changes, so older cached archives are not reused. */
const ARCHIVE_FORMAT = 1;

/** The archive cache entry (`<key>.xz`, its digest in `<key>.xz.json`) of the binary with `binarySha256`, compressed with `settings`. */
export function archiveCacheEntry(cacheDir: string, binarySha256: string, settings: XzSettings): string {
  const key = createHash('sha256').update(JSON.stringify({ format: ARCHIVE_FORMAT, input: binarySha256, args: xzArgs(settings).slice(1), block: XZ_BLOCK_SIZE })).digest('hex');
  return join(cacheDir, 'xz', `${key}.xz`);
}
