// Reconfigure a running stack: render (a render that fails validation throws
// before anything is installed, so the stack keeps serving), then apply only
// what changed: the supervisor rereads its configuration (changed programs
// restarted, the others keep their pid), nginx reloads gracefully, and a
// process whose own configuration file changed is restarted.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Context } from '../lib/context.ts';
import type { Supervisor } from '../lib/supervisor.ts';
import type { Stack } from '../plugins/stack.ts';
import { runRender } from './render.ts';
import { gatherStack } from './render/gather.ts';

/** Every file under the installed etc, by path relative to it, with its content hash. */
export async function snapshotEtc(etc: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.set(relative(etc, path), createHash('sha256').update(await readFile(path)).digest('hex'));
    }
  };
  await walk(etc);
  return files;
}

function changedFiles(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((path) => before.get(path) !== after.get(path)).sort();
}

const SUPERVISOR_FILES = ['supervisor/supervisord.conf', 'circus/circus.ini'];

/** Applies changed files to the running stack; returns what was done, one entry per action. */
async function applyChanges(ctx: Context, stack: Stack, supervisor: Supervisor, changed: readonly string[]): Promise<string[]> {
  const actions: string[] = [];
  const restarted = new Set<string>();
  if (changed.some((path) => SUPERVISOR_FILES.includes(path))) {
    const update = await supervisor.update();
    for (const name of [...update.added, ...update.changed]) restarted.add(name);
    if (update.added.length + update.changed.length + update.removed.length > 0) {
      actions.push(`${supervisor.kind} update: ${[...update.added.map((n) => `${n} added`), ...update.changed.map((n) => `${n} restarted`), ...update.removed.map((n) => `${n} removed`)].join(', ')}`);
    }
  }
  const changedPaths = new Set(changed.map((path) => join(stack.paths.etc, path)));
  const nginx = stack.processes.find((p) => p.value.name === 'nginx');
  if (nginx && !restarted.has('nginx') && changed.some((path) => path.startsWith('nginx/'))) {
    // Graceful: new workers take the new configuration, old ones finish their requests.
    await ctx.sh`/usr/sbin/nginx -s reload -c ${join(stack.paths.etc, 'nginx', 'nginx.conf')}`;
    actions.push('nginx reloaded');
  }
  for (const { value: process } of stack.processes) {
    if (process.name === 'nginx' || restarted.has(process.name)) continue;
    if (!process.command.some((arg) => changedPaths.has(arg))) continue;
    await supervisor.restart(process.name);
    actions.push(`${process.name} restarted (its configuration changed)`);
  }
  return actions;
}

/** Render, then apply what changed to the running stack. */
export async function reconfigure(ctx: Context, supervisor: Supervisor): Promise<void> {
  const etc = join(ctx.pillar.data_root, 'etc');
  const before = await snapshotEtc(etc);
  await runRender(ctx);
  const changed = changedFiles(before, await snapshotEtc(etc));
  if (changed.length === 0) {
    ctx.log.info('reconfigure: the configuration did not change; nothing to do');
    return;
  }
  const actions = await applyChanges(ctx, await gatherStack(ctx), supervisor, changed);
  ctx.log.info(`reconfigure: ${actions.length > 0 ? actions.join('; ') : 'nothing to restart'}`);
}
