// A kit task: what `gulp --tasks` shows (name, description, flags) and what it
// runs, with a full context or, for tasks that need no pillar, a bare one.
// The kit's tasks and a consumer's own (createTasks({ tasks })) are both made
// with defineTask.
import type { Context } from '../lib/context.ts';
import { COMMON_FLAGS, flagUsage, kitFlagSpecs, type FlagName, type FlagSpec, type FlagSpecs, type FlagValues } from '../lib/flags.ts';
import type { Logger } from '../lib/logger.ts';

export type { FlagName, FlagSpec, FlagSpecs, FlagValues };

/** What a task that needs no pillar gets. */
export interface BareContext {
  cwd: string;
  log: Logger;
}

export interface TaskInfo<N extends string> {
  /** "name" or "group:action". */
  name: N;
  description: string;
  /**
   * The kit's flags this task reads from ctx.flags (a task with a context also
   * takes --pillar, --verbose and --quiet).
   */
  flags?: readonly FlagName[];
  /** Flags of its own, by command-line name: parsed, validated, and given to run() as its second argument. */
  taskFlags?: FlagSpecs;
}

export type KitTask<N extends string = string> =
  | (TaskInfo<N> & { bare?: false; run(ctx: Context, flags: FlagValues): Promise<void> })
  | (TaskInfo<N> & { bare: true; run(io: BareContext, flags: FlagValues): Promise<void> });

/** A task with the kit's context: its name stays a literal type, so createTasks() knows it. */
export function defineTask<const N extends string>(task: KitTask<N>): KitTask<N> {
  return task;
}

/** Every flag a task accepts, by command-line name. */
export function taskFlagSpecs(task: Pick<KitTask, 'flags' | 'taskFlags' | 'bare'>): Record<string, FlagSpec> {
  return { ...kitFlagSpecs(task.bare ? task.flags ?? [] : [...COMMON_FLAGS, ...(task.flags ?? [])]), ...task.taskFlags };
}

/** gulp's flag map for `--tasks`: "--flag VALUE": "help". */
export function flagHelp(specs: FlagSpecs): Record<string, string> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [flagUsage(name, spec), spec.help]));
}
