// Reconfigure a running stack: render (a render that fails validation throws
// before anything is installed, so the stack keeps serving), then apply only
// what changed: the supervisor rereads its configuration (changed programs
// restarted, the others keep their pid), nginx reloads gracefully, and a
// process whose own configuration file or private file (a secret it is given
// at start) changed is restarted.
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Context } from '../lib/context.ts';
import { processStart, type Supervisor } from '../lib/supervisor.ts';
import type { ProcessSpec } from '../plugins/api.ts';
import type { Stack } from '../plugins/stack.ts';
import { runRender } from './render.ts';

const SUPERVISOR_FILES = ['supervisor/supervisord.conf', 'circus/circus.ini'];

/** The installed files a process reads at start: those its command names, and its private files. */
function filesOf(stack: Stack, process: ProcessSpec): string[] {
  const secrets = [...Object.values(process.secret_env ?? {}), ...(process.secret_stdin ? [process.secret_stdin] : [])];
  return [...process.command, ...secrets.map((path) => join(stack.paths.processSecrets, path))];
}

/** Applies changed files (installed paths) to the running stack; returns what was done, one entry per action. */
async function applyChanges(ctx: Context, stack: Stack, supervisor: Supervisor, changedPaths: readonly string[]): Promise<string[]> {
  const actions: string[] = [];
  const restarted = new Set<string>();
  // Paths relative to their tree: etc's and the private files' components share names (nginx/...).
  const changed = changedPaths.map((path) => relative(path.startsWith(`${stack.paths.etc}/`) ? stack.paths.etc : stack.paths.processSecrets, path));
  if (changed.some((path) => SUPERVISOR_FILES.includes(path))) {
    const update = await supervisor.update();
    for (const name of [...update.added, ...update.changed]) restarted.add(name);
    if (update.added.length + update.changed.length + update.removed.length > 0) {
      actions.push(`${supervisor.kind} update: ${[...update.added.map((n) => `${n} added`), ...update.changed.map((n) => `${n} restarted`), ...update.removed.map((n) => `${n} removed`)].join(', ')}`);
    }
  }
  const nginx = stack.processes.find((p) => p.value.name === 'nginx');
  if (nginx && !restarted.has('nginx') && changed.some((path) => path.startsWith('nginx/'))) {
    // Graceful: new workers take the new configuration, old ones finish their requests.
    await ctx.sh`/usr/sbin/nginx -s reload -c ${join(stack.paths.etc, 'nginx', 'nginx.conf')}`;
    actions.push('nginx reloaded');
  }
  const stale = await startedBeforeTheirFiles(stack, supervisor);
  for (const { value: process } of stack.processes) {
    if (process.name === 'nginx' || restarted.has(process.name)) continue;
    const why = filesOf(stack, process).some((file) => changedPaths.includes(file)) ? 'its configuration changed'
      : stale.has(process.name) ? 'a file it reads at start changed after it started' : undefined;
    if (!why) continue;
    await supervisor.restart(process.name);
    actions.push(`${process.name} restarted (${why})`);
  }
  return actions;
}

/**
 * Running processes that started before the last change of a file they read at
 * start: a change this run did not see (a `gulp render` alone, a reconfigure
 * that failed half-way) is applied all the same. Unchanged files keep their
 * mtimes (render links them), so only a real change counts.
 */
async function startedBeforeTheirFiles(stack: Stack, supervisor: Supervisor): Promise<Set<string>> {
  const stale = new Set<string>();
  for (const status of await supervisor.processes()) {
    const process = stack.processes.find((p) => p.value.name === status.name)?.value;
    // The start from /proc, to the clock tick: the supervisors' uptimes are whole seconds, too coarse
    // for a file render wrote a moment before the process started.
    const started = status.state === 'RUNNING' && status.pid ? processStart(status.pid) : undefined;
    if (!process || started === undefined) continue;
    for (const file of filesOf(stack, process)) {
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs > started + START_TICK_MS) stale.add(status.name);
    }
  }
  return stale;
}

/** A process start read from /proc is known to the clock tick (10 ms), and the clocks of files and processes differ a little. */
const START_TICK_MS = 50;

/** Render `stack`, then apply what changed to the running stack. */
export async function reconfigure(ctx: Context, stack: Stack, supervisor: Supervisor): Promise<void> {
  const changed = await runRender(ctx, stack);
  const actions = await applyChanges(ctx, stack, supervisor, changed);
  if (changed.length === 0 && actions.length === 0) {
    ctx.log.info('reconfigure: the configuration did not change; nothing to do');
    return;
  }
  ctx.log.info(`reconfigure: ${actions.length > 0 ? actions.join('; ') : 'nothing to restart'}`);
}
