// A kit task: what `gulp --tasks` shows (name, description, flags) and what it
// runs, with a full context or, for tasks that need no pillar, a bare one.
import type { Context } from '../lib/context.ts';
import { FLAG_HELP } from '../lib/flags.ts';
import type { Logger } from '../lib/logger.ts';

export type FlagName = keyof typeof FLAG_HELP;

/** What a task that needs no pillar gets. */
export interface BareContext {
  cwd: string;
  log: Logger;
}

interface TaskInfo {
  name: string;
  description: string;
  /** Flags this task reads, besides --pillar and --verbose which every task takes. */
  flags?: FlagName[];
}

export type KitTask =
  | (TaskInfo & { bare?: false; run(ctx: Context): Promise<void> })
  | (TaskInfo & { bare: true; run(io: BareContext): Promise<void> });

export function defineTask(task: KitTask): KitTask {
  return task;
}

/** gulp's flag map for a task: "--flag": "help". */
export function flagHelp(flags: readonly FlagName[] = [], bare = false): Record<string, string> {
  const names: FlagName[] = bare ? [...flags] : ['pillar', ...flags, 'verbose'];
  return Object.fromEntries(names.map((name) => {
    const text = FLAG_HELP[name];
    const cut = text.indexOf(': ');
    return [text.slice(0, cut), text.slice(cut + 2)];
  }));
}
