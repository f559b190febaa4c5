// A cross-process lock that dies with its holder: flock(2) on a file this
// process keeps open. Node has no flock of its own, so flock(1) (util-linux)
// takes the lock on this process's descriptor, passed to it as fd 3: the lock
// belongs to the open file description, which outlives the flock process and
// is closed by the kernel when this process ends, however it ends (kill -9, a
// reused pid in a pid namespace: nothing stale is left to misread). The file
// holds who took it, for a waiter to report. A file left by a killed holder is
// just a free lock, taken (and removed) by the next run.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from './errors.ts';

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

export interface LockOptions {
  /** What waits, for messages: "package", "image corpus-kit-recipe/...". */
  what: string;
  /** Gives up after this long, with an error naming the holder. */
  timeoutMs: number;
  /** Called once when the lock is held by someone else, before waiting, with who that is ("pid 12 on host since ..."). */
  onWait?(holder: string): void;
}

/** Lock waits in seconds from CORPUS_KIT_LOCK_TIMEOUT, else the caller's default. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv, defaultSeconds: number): number {
  const seconds = Number(env.CORPUS_KIT_LOCK_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : defaultSeconds) * 1000;
}

/** flock(1) on `handle`: exit 0 once locked, 1 when `waitSeconds` (0: do not wait) passed first. */
function flock(handle: FileHandle, waitSeconds: number): Promise<boolean> {
  const args = waitSeconds > 0 ? ['--exclusive', '--wait', String(waitSeconds), '3'] : ['--exclusive', '--nonblock', '3'];
  return new Promise((resolve, reject) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'ignore', 'pipe', handle.fd] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk));
    child.on('error', (error) => reject(new UserError(`flock: ${error.message} (install util-linux)`)));
    child.on('close', (code) => {
      if (code === 0 || code === 1) resolve(code === 0);
      else reject(new Error(`flock ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
    });
  });
}

/** "pid 123 on host, since ..., running ..." from the lock file, or a plain word when it says nothing yet. */
async function describeHolder(path: string): Promise<{ text: string; pid?: number }> {
  const holder = await readFile(path, 'utf8').then((t) => JSON.parse(t) as LockHolder).catch(() => undefined);
  if (!holder?.pid) return { text: 'another process (it has not said which yet)' };
  return { text: `pid ${holder.pid} on ${holder.host} since ${holder.since} (${holder.command})`, pid: holder.pid };
}

/** A lock this process holds until `release()`. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Opens `path` and locks it, waiting at most until `deadline`; undefined when the wait ran out. */
async function lockOpen(path: string, options: LockOptions, deadline: number, waited: { told: boolean }): Promise<FileHandle | undefined> {
  const handle = await open(path, 'a+');
  try {
    if (await flock(handle, 0)) return handle;
    if (!waited.told) {
      waited.told = true;
      options.onWait?.(`${options.what}: waiting for ${path}, held by ${(await describeHolder(path)).text}`);
    }
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left > 0 && (await flock(handle, left))) return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return undefined;
}

const sameFile = (a: { dev: number; ino: number }, b?: { dev: number; ino: number }) => b !== undefined && a.dev === b.dev && a.ino === b.ino;

/**
 * Takes the lock at `path`. Its holder removes the file as it lets go (a run
 * that finishes leaves nothing beside the folder it locked), so a lock taken
 * on a file that is no longer at `path` is let go and taken again on the new one.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + options.timeoutMs;
  const waited = { told: false };
  for (;;) {
    const handle = await lockOpen(path, options, deadline, waited);
    if (!handle) {
      const now = await describeHolder(path);
      const stop = now.pid ? `stop it (kill ${now.pid}) if it hangs` : 'stop the run that holds it if it hangs';
      throw new UserError(
        `${options.what}: gave up after ${Math.round(options.timeoutMs / 1000)}s waiting for ${path}, held by ${now.text}; ` +
          `let that run finish, or ${stop}, then run again (CORPUS_KIT_LOCK_TIMEOUT=<seconds> waits longer)`,
      );
    }
    if (!sameFile(await handle.stat(), await stat(path).catch(() => undefined))) {
      await handle.close();
      continue;
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ').slice(0, 200) };
    await handle.truncate(0);
    await handle.write(`${JSON.stringify(holder)}\n`, 0);
    return {
      async release() {
        // Removed while still locked: a waiter that then gets the old file sees it is gone and starts over.
        await rm(path, { force: true });
        // Closing the last descriptor of the file description releases the lock.
        await handle.close();
      },
    };
  }
}

export async function withLock<T>(path: string, body: () => Promise<T>, options: LockOptions): Promise<T> {
  const held = await acquireLock(path, options);
  try {
    return await body();
  } finally {
    await held.release();
  }
}
