// The task factory: gulp task functions (displayName, description, flags) for
// this repository's gulpfile and for any other project's. Each run parses its
// flags strictly and builds its own context; every error leaving a task is masked.
//
// Adding a kit task: define it with defineTask (tasks/<name>.ts) and list it in
// kitTasks below; its flags are the KIT_FLAGS keys it lists (lib/flags.ts).
import { resolve } from 'node:path';
import { createContext, type Context, type ContextOptions } from '../lib/context.ts';
import { UserError, masked } from '../lib/errors.ts';
import { flagsFromUsage, kitFlags, parseArgv, pillarFilesOf, type Flags, type FlagSpecs, type FlagValues } from '../lib/flags.ts';
import { Logger } from '../lib/logger.ts';
import type { Tree } from '../pillar/merge.ts';
import type { Pillar } from '../pillar/schema.ts';
import type { Plugin, TaskSpec } from '../plugins/api.ts';
import { buildTasks } from './build.ts';
import { caTask } from './ca.ts';
import { doctorTask } from './doctor.ts';
import { downTask } from './down.ts';
import { imageBuildTask } from './image-build.ts';
import { imageDevTask } from './image-dev.ts';
import { imageRunTask } from './image-run.ts';
import { pillarTasks } from './pillar.ts';
import { pluginsShowTask } from './plugins.ts';
import { renderTask } from './render.ts';
import { statusTask } from './status.ts';
import { reconfigureTask, upTask } from './up.ts';
import { flagHelp, taskFlagSpecs, type BareContext, type KitTask } from './task.ts';

/** Every task of the kit, in the order `gulp --tasks` lists them. */
export const kitTasks = [...pillarTasks, ...buildTasks, caTask, renderTask, upTask, downTask, statusTask, reconfigureTask, imageBuildTask, imageDevTask, imageRunTask, doctorTask, pluginsShowTask];

export type KitTaskName = (typeof kitTasks)[number]['name'];
// The names stay literal types only while every list above is inferred from
// defineTask() calls; a `KitTask[]` annotation would widen them to string.
const namesAreLiteral: string extends KitTaskName ? never : true = true;
void namesAreLiteral;

/** Every key optional, all the way down: the shape of a partial pillar. */
export type DeepPartial<T> = T extends readonly (infer U)[] ? readonly DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface CreateTasksOptions<T extends readonly KitTask[] = readonly KitTask[]> {
  /** The project folder: pillar/local.yml, .env, dist/ and .cache/ are found here (import.meta.dirname in a gulpfile). */
  cwd: string;
  /**
   * The pillar set in code: merged over the kit's defaults and under every
   * pillar file (the kit's defaults < this < pillarFiles < pillar/local.yml < PILLAR < --pillar).
   */
  pillar?: DeepPartial<Pillar> | readonly DeepPartial<Pillar>[];
  /** Pillar files named in code, relative to cwd: merged after `pillar`, before pillar/local.yml. */
  pillarFiles?: readonly string[];
  /** Plugins given in code, after the built-ins and before the pillar's `plugins:` list. */
  plugins?: readonly Plugin[];
  /** Tasks of your own (defineTask), run with the kit's context and flags. */
  tasks?: T;
  /** Command-line arguments (default: process.argv.slice(2)). */
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  logger?: ContextOptions['logger'];
  /** Where relative paths on the command line start (default: the folder gulp was run from, INIT_CWD). */
  userDir?: string;
}

/** A gulp task function as `gulp --tasks` shows it. */
export type GulpTask = (() => Promise<void>) & { displayName: string; description: string; flags: Record<string, string> };

/** What createTasks returns: every kit task and every task of yours by name; plugin tasks may be there. */
export type Tasks<T extends readonly KitTask[] = []> = { readonly [K in KitTaskName | T[number]['name']]: GulpTask } & {
  readonly [name: string]: GulpTask | undefined;
};

/** A task as this module runs it, whoever declared it. */
interface Runnable {
  name: string;
  description: string;
  specs: FlagSpecs;
  bare: boolean;
  run(ctx: Context | BareContext, flags: FlagValues): Promise<void>;
}

function fromKitTask(task: KitTask): Runnable {
  return { name: task.name, description: task.description, specs: taskFlagSpecs(task), bare: task.bare === true, run: task.run as Runnable['run'] };
}

function fromPluginTask({ owner, value }: { owner: string; value: TaskSpec }): Runnable {
  return {
    name: value.name,
    description: value.description,
    specs: { ...taskFlagSpecs({}), ...flagsFromUsage(value.flags ?? {}, `plugin "${owner}": task ${value.name}`) },
    bare: false,
    async run(ctx, flags) {
      const registered = (ctx as Context).plugins.tasks.find((t) => t.value.name === value.name);
      if (!registered) throw new UserError(`task ${value.name}: its plugin "${owner}" did not register it with this pillar`);
      await registered.value.run(ctx as Context, flags);
    },
  };
}

/** The context made while gulp loads the gulpfile, kept for the first task run whose flags are the same. */
interface Preloaded {
  /** The kit's flags it was made with (JSON). */
  flags: string;
  ctx: Context;
}

/**
 * Plugin tasks must be known when gulp lists tasks, before any task runs, so the
 * plugins are set up once at load time. That context is made with the flags the
 * command line gives the kit, so the task run next (one per `gulp` command, as a
 * rule) takes it instead of loading the pillar and the plugins a second time.
 * A pillar that does not load hides the plugin tasks, and says so on stderr with
 * its first problem; running `pillar:check` shows all.
 */
async function preload(options: ContextOptions, argv: readonly string[], userDir: string, specs: FlagSpecs): Promise<{ tasks: { owner: string; value: TaskSpec }[]; preloaded?: Preloaded }> {
  let flags: Flags;
  try {
    flags = kitFlags(parseArgv(argv, specs, userDir));
  } catch {
    // A plugin's flag (not known yet) or a mistake the task's own parse reports: the pillar files are enough here.
    flags = kitFlags({ values: { pillar: pillarFilesOf(argv, userDir) }, silent: false });
  }
  try {
    const ctx = await createContext({ ...options, flags });
    return { tasks: ctx.plugins.tasks, preloaded: { flags: JSON.stringify(flags), ctx } };
  } catch (error) {
    const log = new Logger(options.logger);
    log.warn(`plugin tasks are not listed: ${firstProblem((error as Error).message)}; run \`gulp pillar:check\` to see every problem`);
    return { tasks: [] };
  }
}

/** The first problem of a "what:\n  - problem\n  - problem" message (a pillar's, a plugin's), or its first line. */
function firstProblem(message: string): string {
  const [head = '', ...rest] = message.split('\n');
  const items = rest.filter((line) => line.startsWith('  - ')).map((line) => line.slice(4));
  if (items.length === 0) return head;
  return `${items[0]}${items.length > 1 ? ` (and ${items.length - 1} more)` : ''}`;
}

/** Checks what JavaScript callers may get wrong, each with a message saying what to write. */
function checkOptions(options: CreateTasksOptions): void {
  if (options === null || typeof options !== 'object') throw new UserError('createTasks(options): options must be an object with at least { cwd }');
  if (typeof options.cwd !== 'string' || options.cwd === '') {
    throw new UserError('createTasks(options): options.cwd is required: the project folder (import.meta.dirname in your gulpfile)');
  }
  (options.tasks ?? []).forEach((task, i) => {
    if (!task || typeof task.name !== 'string' || typeof task.run !== 'function') {
      throw new UserError(`createTasks(options): tasks[${i}] is not a task: make it with defineTask({ name, description, run })`);
    }
  });
}

/** The caller's code pillar as a list of trees. */
function codePillar(pillar: CreateTasksOptions['pillar']): Tree[] {
  if (pillar === undefined) return [];
  return (Array.isArray(pillar) ? pillar : [pillar]) as Tree[];
}

export async function createTasks<const T extends readonly KitTask[] = []>(options: CreateTasksOptions<T>): Promise<Tasks<T>> {
  checkOptions(options);
  const cwd = resolve(options.cwd);
  const own = (options.tasks ?? []).map(fromKitTask);
  const kit = kitTasks.map((task) => fromKitTask(task as KitTask));
  for (const task of own) {
    if (kit.some((k) => k.name === task.name)) throw new UserError(`createTasks(options): task "${task.name}" is a task of corpus-kit already; give yours another name`);
  }
  const contextOptions: ContextOptions = {
    cwd,
    env: options.env,
    logger: options.logger,
    pillar: codePillar(options.pillar),
    pillarFiles: options.pillarFiles,
    plugins: options.plugins,
    reservedTasks: [...kit, ...own].map((t) => t.name),
  };
  const argv = options.argv ?? process.argv.slice(2);
  const userDir = resolve(options.userDir ?? process.env.INIT_CWD ?? process.cwd());
  const runnables = [...kit, ...own];
  const loaded = await preload(contextOptions, argv, userDir, Object.assign({}, ...runnables.map((r) => r.specs)));
  let preloaded = loaded.preloaded;
  for (const task of loaded.tasks.map(fromPluginTask)) {
    if (!runnables.some((r) => r.name === task.name)) runnables.push(task); // a duplicate is reported when a task runs
  }
  /** The run's context: the preloaded one if its flags are these (once: a context belongs to one run), else a new one. */
  const contextFor = async (flags: Flags) => {
    const reuse = preloaded?.flags === JSON.stringify(flags) ? preloaded.ctx : undefined;
    preloaded = undefined;
    return reuse ?? createContext({ ...contextOptions, flags });
  };
  const byName = new Map(runnables.map((r) => [r.name, r]));
  const everyFlag: FlagSpecs = Object.assign({}, ...runnables.map((r) => r.specs));

  /** This task's flags from the command line; a flag none of the named tasks takes is an error. */
  const flagsOf = (task: Runnable) => {
    const parsed = parseArgv(argv, { ...everyFlag, ...task.specs }, userDir);
    const named = parsed.tasks.map((name) => byName.get(name));
    if (named.length > 0 && named.every((r) => r !== undefined)) {
      for (const flag of Object.keys(parsed.values)) {
        if (named.some((r) => flag in r.specs)) continue;
        const names = named.map((r) => r.name).join(', ');
        const accepted = [...new Set(named.flatMap((r) => Object.keys(r.specs)))].map((f) => `--${f}`).join(', ');
        throw new UserError(`--${flag} is not a flag of ${names} (${accepted ? `flags: ${accepted}` : 'it takes no flags'})`);
      }
    }
    const values = Object.fromEntries(Object.entries(parsed.values).filter(([name]) => name in task.specs));
    return { ...parsed, values };
  };

  const tasks: Record<string, GulpTask> = {};
  for (const task of runnables) {
    const run = async () => {
      const log = new Logger(options.logger);
      const parsed = await masked(log, async () => flagsOf(task));
      if (task.bare) return masked(log, () => task.run({ cwd, log }, parsed.values));
      const ctx = await contextFor(kitFlags(parsed));
      return masked(ctx.log, () => task.run(ctx, parsed.values));
    };
    tasks[task.name] = Object.assign(run, { displayName: task.name, description: task.description, flags: flagHelp(task.specs) });
  }
  return tasks as Tasks<T>;
}

/** The part of gulp registerTasks uses. */
export interface GulpRegistry {
  task(name: string, fn: GulpTask): unknown;
}

/** Registers the tasks with the caller's gulp instance (the one gulp-cli loaded). */
export function registerTasks(gulp: GulpRegistry, tasks: Readonly<Record<string, GulpTask | undefined>>): void {
  if (!gulp || typeof gulp.task !== 'function') throw new UserError('registerTasks(gulp, tasks): the first argument must be gulp (import gulp from \'gulp\')');
  if (tasks && typeof (tasks as { then?: unknown }).then === 'function') {
    throw new UserError('registerTasks(gulp, tasks): tasks is a Promise; write `await createTasks(...)`');
  }
  if (!tasks || typeof tasks !== 'object') throw new UserError('registerTasks(gulp, tasks): tasks must be the object createTasks returns');
  for (const [name, fn] of Object.entries(tasks)) {
    if (typeof fn !== 'function') throw new UserError(`registerTasks(gulp, tasks): task "${name}" is ${fn === undefined ? 'undefined' : `a ${typeof fn}`}, not a task function`);
    gulp.task(name, fn);
  }
}
