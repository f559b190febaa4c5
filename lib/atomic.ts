// File writes that a reader (or a crash) never sees half done: the bytes go to
// a file of this process beside the target, then one rename puts them in place.
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';

/** Per process: two runs on one project must not write (or rename away) each other's partial file. */
export const PARTIAL_SUFFIX = `.partial-${process.pid}`;

/** A partial file of any process (what a cleanup must leave to its owner). */
export const PARTIAL_NAME = /\.partial-\d+$/;

async function aside(path: string, write: (partial: string) => Promise<void>, partial = `${path}${PARTIAL_SUFFIX}`): Promise<void> {
  try {
    await write(partial);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Copies `from` to `path` through a partial file, so `path` is never half-written. */
export const installFile = (from: string, path: string) => aside(path, (partial) => copyFile(from, partial));

/**
 * Writes `data` to `path` through a partial file: this process's own, or
 * `partial` when the caller holds a lock over `path` (then one fixed name
 * serves every run, and what a killed run left there is simply overwritten).
 */
export const writeFileAtomic = (path: string, data: string, partial?: string) => aside(path, (to) => writeFile(to, data), partial);
