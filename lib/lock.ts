// A cross-process lock (a directory holding the owner's pid): two runs that
// would build the same image or cache entry wait for each other instead of
// doing the work twice. A lock whose owner died is taken over.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(dir: string, body: () => Promise<T>, onWait?: () => void): Promise<T> {
  let waited = false;
  for (;;) {
    try {
      await mkdir(dir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
      // No pid yet: the owner is between mkdir and writeFile, unless that was long ago.
      const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (owner ? owner !== process.pid && !alive(owner) : age > 10_000) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (!waited) onWait?.();
      waited = true;
      await sleep(250);
    }
  }
  try {
    await writeFile(join(dir, 'pid'), String(process.pid));
    return await body();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
