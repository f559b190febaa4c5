// goreleaser-style pipes: each step has a name, defaults(ctx), skip(ctx) and
// run(ctx). Defaults of every step run first, then each step that is not skipped.
import type { Context } from './context.ts';

export interface Pipe {
  name: string;
  /** Why this step does nothing in this run, or false. */
  skip?(ctx: Context): string | false;
  /** Fills in settings this step derives from others, before any step runs. */
  defaults?(ctx: Context): void | Promise<void>;
  run(ctx: Context): Promise<void>;
}

export async function runPipes(ctx: Context, pipes: readonly Pipe[]): Promise<void> {
  for (const pipe of pipes) await pipe.defaults?.(ctx);
  for (const pipe of pipes) {
    const reason = pipe.skip?.(ctx);
    if (reason) {
      ctx.log.info(`${pipe.name}: skipped (${reason})`);
      continue;
    }
    const started = performance.now();
    ctx.log.debug(`${pipe.name}: start`);
    await pipe.run(ctx);
    ctx.log.debug(`${pipe.name}: done in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
}
