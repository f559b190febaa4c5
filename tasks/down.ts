// down: stops a detached stack through its supervisor (each process with its
// stop signal, within its stopwaitsecs), then checks by pid and process group
// that nothing is left.
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { livePid } from '../lib/supervisor.ts';
import { stackWithoutSecrets, stopStack, supervisorOf } from './launch.ts';
import { defineTask } from './task.ts';

async function runDown(ctx: Context): Promise<void> {
  const stack = stackWithoutSecrets(ctx);
  const supervisor = supervisorOf(stack);
  const pid = livePid(supervisor.pidFile);
  if (pid === undefined) {
    ctx.log.info(`down: the stack is not running (no live pid in ${supervisor.pidFile})`);
    return;
  }
  if (!(await supervisor.answering())) throw new UserError(`down: ${supervisor.kind} pid ${pid} does not answer on its control socket; stop it with kill ${pid}`);
  const pids = await stopStack(stack, supervisor, pid);
  ctx.log.info(`down: stopped ${supervisor.kind} pid ${pid} and ${pids.length - 1} processes; nothing left running`);
}

export const downTask = defineTask({
  name: 'down',
  description: 'Stop the stack started by up --detach, through its supervisor',
  run: runDown,
});
