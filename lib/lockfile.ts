// corpus.lock.json: per binary the ref of the pillar and the commit it resolved
// to when it was first fetched. Runs change it under a cross-process lock, each
// re-reading it there and changing only its own binaries' pins, so concurrent
// `fetch --only` runs keep each other's pins; it is written whole (aside, then
// renamed) and only when every fetch of the run succeeded. A lock file that is
// not one is an error, never read as empty: that would switch off the
// moved-tag check (--repin writes it anew).
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMapping } from '../pillar/merge.ts';
import { writeFileAtomic } from './atomic.ts';
import { UserError } from './errors.ts';
import { lockTimeoutMs, withLock } from './lock.ts';
import { SHA } from './remote-tag.ts';

export interface LockEntry {
  ref: string;
  commit: string;
}

export interface LockFile {
  schema: 1;
  binaries: Record<string, LockEntry>;
}


function parseLock(text: string): LockFile {
  const parsed: unknown = JSON.parse(text);
  if (!isMapping(parsed)) throw new Error(`expected an object, got ${Array.isArray(parsed) ? 'a list' : JSON.stringify(parsed)?.slice(0, 40)}`);
  if (!isMapping(parsed.binaries)) throw new Error(`expected "binaries": an object, got ${JSON.stringify(parsed.binaries) ?? 'none'}`);
  const binaries: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(parsed.binaries)) {
    if (!isMapping(entry) || typeof entry.ref !== 'string' || typeof entry.commit !== 'string' || !SHA.test(entry.commit)) {
      throw new Error(`binaries.${name}: expected {ref, commit}`);
    }
    binaries[name] = { ref: entry.ref, commit: entry.commit };
  }
  if (parsed.schema !== 1) throw new Error(`expected "schema": 1, got ${JSON.stringify(parsed.schema) ?? 'none'}`);
  return { schema: 1, binaries };
}

/** The lock file; none is an empty lock, and so is a malformed one when `repin` says to write it anew. */
export async function readLock(path: string, repin = false): Promise<LockFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schema: 1, binaries: {} };
    throw error;
  }
  try {
    return parseLock(text);
  } catch (error) {
    if (repin) return { schema: 1, binaries: {} };
    throw new UserError(`${path}: not a corpus lock file (${(error as Error).message}); fix it, or run again with --repin to write it anew from the pillar's pins`);
  }
}

function formatLock(lock: LockFile): string {
  const binaries = Object.fromEntries(Object.keys(lock.binaries).sort().map((name) => [name, lock.binaries[name]!]));
  return `${JSON.stringify({ schema: 1, binaries }, null, 2)}\n`;
}

interface UpdateOptions {
  repin: boolean;
  env: NodeJS.ProcessEnv;
  onWait?(holder: string): void;
}

/**
 * Applies `change` to the lock as it is now, under the cross-process lock
 * (`change` may throw: nothing is written); `guard` is the lock's lock file. Returns whether the file changed.
 */
export async function updateLock(path: string, guard: string, options: UpdateOptions, change: (lock: LockFile) => void): Promise<boolean> {
  return withLock(guard, async () => {
    const lock = await readLock(path, options.repin);
    const before = await readFile(path, 'utf8').catch(() => '');
    change(lock);
    const text = formatLock(lock);
    if (before === text) return false;
    // Under the lock: one fixed partial name, which a killed run's leftover does not outlive.
    await writeFileAtomic(path, text, join(dirname(path), `.${basename(path)}.next`));
    return true;
  }, { what: basename(path), timeoutMs: lockTimeoutMs(options.env, 120), onWait: options.onWait });
}
