// Kit tasks run in this process (createTasks, as a gulpfile does), with what
// they print captured: stdout, stderr, both in order, and the error the first
// failing task ended with (the tasks after it do not run).
import { createTasks, type CreateTasksOptions } from '../../index.ts';

export interface TasksRun {
  out: string;
  err: string;
  all: string;
  error?: Error;
}

export async function runKitTasks(options: Omit<CreateTasksOptions, 'logger'>, names: readonly string[]): Promise<TasksRun> {
  const run: TasksRun = { out: '', err: '', all: '' };
  const logger = {
    out: (s: string) => void ((run.out += s), (run.all += s)),
    err: (s: string) => void ((run.err += s), (run.all += s)),
  };
  const tasks = (await createTasks({ ...options, logger })) as unknown as Record<string, (() => Promise<void>) | undefined>;
  for (const name of names) {
    const task = tasks[name];
    if (!task) throw new Error(`no task ${name}`);
    run.error = await task().then(() => undefined, (e: Error) => e);
    if (run.error) break;
  }
  return run;
}
