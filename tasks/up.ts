// up: render (a bad pillar stops here with nothing changed), prepare
// {data_root}, start the supervisor, wait until the stack is healthy, print one
// summary (where generated passwords are stored, never the passwords). In the
// foreground until SIGTERM/SIGINT, which stop the stack through the supervisor;
// --detach returns once healthy. On a running stack, up reconfigures it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { alive, livePid, type Supervisor } from '../lib/supervisor.ts';
import type { Stack } from '../plugins/stack.ts';
import { checkPrivilegedPorts, checkReachable, failureReport, HEALTH_TIMEOUT_MS, prepareDataRoot, runningSupervisor, serviceIds, stopStack, summary, supervisorOf, waitHealthy } from './launch.ts';
import { reconfigure } from './launch-reconfigure.ts';
import { runRender } from './render.ts';
import { gatherStack } from './render/gather.ts';
import { defineTask } from './task.ts';

/** The supervisor's environment: no secret of ours is inherited by any process it starts. */
const supervisorEnv = () => ({ PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' });

function startSupervisor(stack: Stack, supervisor: Supervisor, detach: boolean): ChildProcess {
  const [command, ...args] = supervisor.command();
  // Detached: its output goes to a file beside the logs. In the foreground, to ours, like the seed's launcher.
  const console = detach ? openSync(join(stack.paths.log, `${supervisor.kind}.console.log`), 'a', 0o640) : undefined;
  try {
    // Its own session and process group: a terminal's ^C reaches up, which stops the stack in order.
    return spawn(command!, args, { cwd: stack.paths.data, env: supervisorEnv(), detached: true, stdio: console === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', console, console] });
  } finally {
    if (console !== undefined) closeSync(console);
  }
}

/**
 * SIGTERM/SIGINT, listened for from before the supervisor starts until up
 * returns: a signal while the stack is starting stops it as cleanly as one
 * after (never the default action, which would leave the stack orphaned).
 */
interface StopSignal {
  readonly received: string | undefined;
  readonly wait: Promise<string>;
  dispose(): void;
}

function listenForStop(): StopSignal {
  let received: string | undefined;
  let fire: (signal: string) => void = () => {};
  const wait = new Promise<string>((resolve) => (fire = resolve));
  const onTerm = () => ((received ??= 'SIGTERM'), fire('SIGTERM'));
  const onInt = () => ((received ??= 'SIGINT'), fire('SIGINT'));
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    get received() {
      return received;
    },
    wait,
    dispose: () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}

/** Stops what was started: through the supervisor when it answers, else its process group. */
async function stopStarted(stack: Stack, supervisor: Supervisor, child: ChildProcess): Promise<number[]> {
  if (child.exitCode === null && (await supervisor.answering())) return stopStack(stack, supervisor, child.pid!);
  if (child.pid && alive(child.pid)) process.kill(-child.pid, 'SIGKILL');
  return [];
}

/** In the foreground until a stop signal (then the stack is stopped) or the supervisor exits on its own. */
async function foreground(ctx: Context, stack: Stack, supervisor: Supervisor, child: ChildProcess, stop: StopSignal): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode as string | null })
    : new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const first = await Promise.race([stop.wait.then((signal) => ({ signal, stopped: true as const })), exited.then((exit) => ({ ...exit, stopped: false as const }))]);
  if (first.stopped) {
    ctx.log.info(`up: ${first.signal}: stopping the stack through ${supervisor.kind}`);
    const pids = await stopStack(stack, supervisor, child.pid!);
    ctx.log.info(`up: stopped (${pids.length} processes, nothing left running)`);
    return;
  }
  // `gulp down` from another shell shuts the supervisor down cleanly: so is up.
  if (first.code !== 0) throw new UserError(`up: ${supervisor.kind} exited on its own (${first.signal ?? `code ${first.code}`}); see ${supervisor.logFile}`);
  ctx.log.info(`up: ${supervisor.kind} was shut down (gulp down)`);
}

export interface UpOptions {
  /** Return once healthy, leaving the supervisor running. */
  detach: boolean;
}

async function runUp(ctx: Context, { detach }: UpOptions): Promise<void> {
  const stack = await gatherStack(ctx);
  const supervisor = supervisorOf(stack);
  const running = await runningSupervisor(supervisor);
  if (running !== undefined) {
    ctx.log.info(`up: the stack is already running (${supervisor.kind} pid ${running}); starting nothing, applying only what changed`);
    await reconfigure(ctx, stack, supervisor);
    return;
  }
  const stale = livePid(supervisor.pidFile);
  if (stale !== undefined) throw new UserError(`up: ${supervisor.kind} pid ${stale} (${supervisor.pidFile}) is running but does not answer; stop it (gulp down, or kill ${stale}) first`);
  checkPrivilegedPorts(stack);
  const ids = serviceIds(stack);
  await checkReachable(stack, ids);
  await runRender(ctx, stack);
  await prepareDataRoot(stack, ids);

  const stop = listenForStop();
  try {
    const child = startSupervisor(stack, supervisor, detach);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const state = await Promise.race([waitHealthy(stack, supervisor, () => child.exitCode === null && child.signalCode === null && stop.received === undefined), spawnError]);
    if (state instanceof Error) throw new UserError(`up: cannot start ${supervisor.kind} (${supervisor.command()[0]}): ${state.message}`);
    if (stop.received !== undefined) {
      await stopStarted(stack, supervisor, child);
      ctx.log.info(`up: ${stop.received} while starting: stopped everything started`);
      return;
    }
    if (!state.ok) {
      const report = await failureReport(stack, state.checks);
      await stopStarted(stack, supervisor, child);
      throw new UserError(`up: the stack did not become healthy within ${HEALTH_TIMEOUT_MS / 1000}s; every process started was stopped:\n${report}`);
    }
    ctx.log.print(summary(ctx, stack, supervisor, child.pid!, state.statuses));
    if (detach) {
      child.unref();
      ctx.log.info(`up: detached; ${supervisor.kind} pid ${child.pid} in ${supervisor.pidFile}; stop it with \`gulp down\``);
      return;
    }
    await foreground(ctx, stack, supervisor, child, stop);
  } finally {
    stop.dispose();
  }
}

export const upTask = defineTask({
  name: 'up',
  description: 'Render, start the supervised stack (nginx, registry, docker_auth, redis, sshd, cron, plugins), wait until healthy; in the foreground until SIGTERM/SIGINT, or --detach; on a running stack, apply only what changed',
  flags: ['detach'],
  run: (ctx) => runUp(ctx, { detach: ctx.flags.detach }),
});

export const reconfigureTask = defineTask({
  name: 'reconfigure',
  description: 'Render, then apply only what changed to the running stack (nginx -s reload, supervisor update, restart a process whose config changed)',
  run: async (ctx) => {
    const stack = await gatherStack(ctx);
    const supervisor = supervisorOf(stack);
    if ((await runningSupervisor(supervisor)) === undefined) throw new UserError('reconfigure: the stack is not running (start it with gulp up)');
    await reconfigure(ctx, stack, supervisor);
  },
});
