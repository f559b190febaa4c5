// sha256 and md5 of a file from one streamed read (the old way read it twice).
import { createHash } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export interface FileDigest {
  size: number;
  sha256: string;
  md5: string;
}

/** Large reads keep this near sha256sum's speed (both hashes run on one buffer). */
const CHUNK = 4 * 1024 * 1024;

async function hashStream(stream: AsyncIterable<Buffer>): Promise<FileDigest> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  for await (const chunk of stream) {
    sha256.update(chunk);
    md5.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

export function hashFile(path: string): Promise<FileDigest> {
  return hashStream(createReadStream(path, { highWaterMark: CHUNK }));
}

/**
 * The digests of a regular file, opened without following a symlink, and its stat
 * from the same open file (no window for a swap between the check and the read);
 * undefined for a symlink, a directory, a device or a FIFO.
 */
export async function hashRegularFile(path: string): Promise<{ digest: FileDigest; stat: Stats } | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return undefined;
    return { stat, digest: await hashStream(handle.createReadStream({ highWaterMark: CHUNK, autoClose: false })) };
  } finally {
    await handle.close();
  }
}
