// goreleaser-style pipes: each step has a name, defaults(ctx), skip(ctx) and
// run(ctx). The runner owns what is common to every step: the defaults of every
// step run first (where settings are derived and input is checked, once), then
// each step that is not skipped, its lines prefixed with its name, timed, and
// an unexpected error named after the step it came from.
import type { Context } from './context.ts';
import { UserError } from './errors.ts';
import { acquireLock, lockTimeoutMs, type HeldLock } from './lock.ts';
import type { Logger } from './logger.ts';

export interface Pipe {
  name: string;
  /** Why this step does nothing in this run, or false: a pure answer from what defaults settled. */
  skip?(ctx: Context): string | false;
  /** Fills in and checks the settings this step works from, before any step runs. */
  defaults?(ctx: Context): void | Promise<void>;
  /**
   * A lock file this step needs held from its start to the end of the run (the
   * runner takes it once, whichever step asks first): package holds
   * package.dir's, so no other run replaces the release this run packaged
   * before this run's publish has sent it.
   */
  holds?(ctx: Context): string;
  /** `log` prefixes the step's own lines with its name. */
  run(ctx: Context, log: Logger): Promise<void>;
}

/** The one ordered list of steps; every task runs a slice of it. */
export class Pipeline {
  constructor(readonly pipes: readonly Pipe[]) {}

  #index(name: string): number {
    const index = this.pipes.findIndex((pipe) => pipe.name === name);
    if (index < 0) throw new Error(`pipeline: no step ${name} (steps: ${this.pipes.map((p) => p.name).join(', ')})`);
    return index;
  }

  /** The steps from the first through `last`: a step with everything it builds on. */
  upTo(last: string): readonly Pipe[] {
    return this.pipes.slice(0, this.#index(last) + 1);
  }

  /** The steps from `first` through `last` (the end by default). */
  between(first: string, last?: string): readonly Pipe[] {
    return this.pipes.slice(this.#index(first), last === undefined ? undefined : this.#index(last) + 1);
  }
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

export async function runPipes(ctx: Context, pipes: readonly Pipe[]): Promise<void> {
  for (const pipe of pipes) await pipe.defaults?.(ctx);
  const held = new Map<string, HeldLock>();
  try {
    for (const pipe of pipes) {
      const log = ctx.log.child(`${pipe.name}:`);
      const reason = pipe.skip?.(ctx);
      if (reason) {
        log.info(`skipped (${reason})`);
        continue;
      }
      const lock = pipe.holds?.(ctx);
      if (lock && !held.has(lock)) {
        held.set(lock, await acquireLock(lock, { what: pipe.name, timeoutMs: lockTimeoutMs(ctx.env, 900), onWait: (holder) => ctx.log.info(holder) }));
      }
      await runPipe(pipe, ctx, log);
    }
  } finally {
    for (const lock of held.values()) await lock.release();
  }
}

async function runPipe(pipe: Pipe, ctx: Context, log: Logger): Promise<void> {
  const started = performance.now();
  log.debug('start');
  try {
    await pipe.run(ctx, log);
  } catch (error) {
    log.debug(`failed after ${seconds(started)}`);
    if (error instanceof UserError) throw error;
    // Not the user's doing: say which step it came from, keep the original for the stack.
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${pipe.name}: ${message}`, { cause: error });
  }
  log.debug(`done in ${seconds(started)}`);
}
