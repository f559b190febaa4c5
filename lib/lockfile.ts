// corpus.lock.json: per binary the ref of the pillar and the commit it resolved
// to when it was first fetched. Written whole (temp file + rename) and only when
// every fetch of the run succeeded, so a failed run never leaves a half-updated lock.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { UserError } from './errors.ts';

export interface LockEntry {
  ref: string;
  commit: string;
}

export interface LockFile {
  schema: 1;
  binaries: Record<string, LockEntry>;
}

export async function readLock(path: string): Promise<LockFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schema: 1, binaries: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockFile>;
    const binaries = parsed.binaries ?? {};
    for (const [name, entry] of Object.entries(binaries)) {
      if (typeof entry?.ref !== 'string' || !/^[0-9a-f]{40}$/.test(entry?.commit ?? '')) throw new Error(`binaries.${name}: expected {ref, commit}`);
    }
    return { schema: 1, binaries };
  } catch (error) {
    throw new UserError(`${path}: not a corpus lock file (${(error as Error).message}); fix it or delete it to pin the current tags again`);
  }
}

function formatLock(lock: LockFile): string {
  const binaries = Object.fromEntries(Object.keys(lock.binaries).sort().map((name) => [name, lock.binaries[name]!]));
  return `${JSON.stringify({ schema: 1, binaries }, null, 2)}\n`;
}

/** Writes the lock when its content changed; returns whether it did. */
export async function writeLock(path: string, lock: LockFile): Promise<boolean> {
  const text = formatLock(lock);
  if ((await readFile(path, 'utf8').catch(() => '')) === text) return false;
  const partial = `${path}.partial-${process.pid}`;
  await writeFile(partial, text);
  await rename(partial, path);
  return true;
}
