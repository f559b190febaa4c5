// Starts the real programs on a rendered configuration (nginx, the Debian
// docker-registry, redis-server) as children of the test, stopped at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, lstat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';

export function start(t: ExecutionContext, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => string } {
  // A process group of its own: nginx's workers outlive a killed master and would hold the test's pipes open.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c));
  child.stderr!.on('data', (c: Buffer) => (output += c));
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  });
  return Object.assign(child, { output: () => output });
}

/** Waits until `url` answers (any status). */
export async function waitFor(url: string, what: () => string, seconds = 20): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not answer within ${seconds}s:\n${what()}`);
}

/** path -> sha256 of every file under `dir` (following the etc link), for "byte-identical" checks. */
export async function treeHashes(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else result[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  };
  await walk(`${dir}/`);
  return result;
}

/** mtime of every file under `dir`. */
export async function mtimes(dir: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const path of Object.keys(await treeHashes(dir))) result[path] = (await lstat(join(dir, path))).mtimeMs;
  return result;
}
