// The task factory: gulp task functions (displayName, description, flags) for
// this repository's gulpfile and for any other project's. Each run builds its
// own context; every error leaving a task is masked.
import { resolve } from 'node:path';
import type { TaskFunction } from 'undertaker';
import { createContext, type Context, type ContextOptions } from '../lib/context.ts';
import { masked } from '../lib/errors.ts';
import { Logger } from '../lib/logger.ts';
import type { TaskSpec } from '../plugins/api.ts';
import { buildTasks } from './build.ts';
import { caTask } from './ca.ts';
import { doctorTask } from './doctor.ts';
import { downTask } from './down.ts';
import { imageBuildTask } from './image-build.ts';
import { imageDevTask } from './image-dev.ts';
import { imageRunTask } from './image-run.ts';
import { pillarTasks } from './pillar.ts';
import { renderTask } from './render.ts';
import { statusTask } from './status.ts';
import { reconfigureTask, upTask } from './up.ts';
import { flagHelp, type KitTask } from './task.ts';

export type CreateTasksOptions = Omit<ContextOptions, 'reservedTasks'>;

export type GulpTask = (() => Promise<void>) & { displayName: string; description: string; flags: Record<string, string> };

/** Every task of the kit, in the order `gulp --tasks` lists them. */
export const kitTasks: readonly KitTask[] = [...pillarTasks, ...buildTasks, caTask, renderTask, upTask, downTask, statusTask, reconfigureTask, imageBuildTask, imageDevTask, imageRunTask, doctorTask];

function gulpTask(name: string, description: string, flags: Record<string, string>, run: () => Promise<void>): GulpTask {
  return Object.assign(run, { displayName: name, description, flags });
}

/**
 * Plugin tasks must be known when gulp lists tasks, before any task runs, so the
 * plugins are set up once at load time. A pillar that does not load hides them,
 * and says so on stderr; running any kit task then reports every problem.
 */
async function pluginTasks(options: CreateTasksOptions, reservedTasks: string[]): Promise<TaskSpec[]> {
  try {
    const ctx = await createContext({ ...options, reservedTasks });
    return ctx.plugins.tasks.map((t) => t.value);
  } catch (error) {
    const log = new Logger(options.logger);
    log.warn(`plugin tasks are not listed: ${log.mask((error as Error).message.split('\n')[0] ?? '')} (run \`gulp pillar:check\`)`);
    return [];
  }
}

export async function createTasks(options: CreateTasksOptions): Promise<Record<string, GulpTask>> {
  const reservedTasks = kitTasks.map((t) => t.name);
  const run = async (body: (ctx: Context) => Promise<void>) => {
    const ctx = await createContext({ ...options, reservedTasks });
    await masked(ctx.log, () => body(ctx));
  };
  const tasks: Record<string, GulpTask> = {};
  for (const task of kitTasks) {
    tasks[task.name] = gulpTask(task.name, task.description, flagHelp(task.flags, task.bare), task.bare
      ? () => {
          const log = new Logger(options.logger);
          return masked(log, () => task.run({ cwd: resolve(options.cwd), log }));
        }
      : () => run((ctx) => task.run(ctx)));
  }
  for (const spec of await pluginTasks(options, reservedTasks)) {
    if (tasks[spec.name]) continue; // the duplicate is reported when a task runs
    tasks[spec.name] = gulpTask(spec.name, spec.description, { ...flagHelp(), ...spec.flags }, () =>
      run(async (ctx) => {
        const registered = ctx.plugins.tasks.find((t) => t.value.name === spec.name);
        if (!registered) throw new Error(`task ${spec.name}: its plugin did not register it with this pillar`);
        await registered.value.run(ctx);
      }),
    );
  }
  return tasks;
}

/** Registers the tasks with the caller's gulp instance (the one gulp-cli loaded). */
export function registerTasks(gulp: { task(name: string, fn: TaskFunction): void }, tasks: Record<string, GulpTask>): void {
  for (const [name, fn] of Object.entries(tasks)) gulp.task(name, fn);
}
