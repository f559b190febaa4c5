// Every error leaving a task is masked first, so a secret inside a failed
// command line never reaches gulp. UserError (no stack shown) is the pillar's.
import type { Logger } from './logger.ts';

export { UserError } from '../pillar/user-error.ts';

function maskError(error: unknown, log: Logger): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const masked = new Error(log.mask(source.message));
  masked.name = source.name;
  masked.stack = log.mask(source.stack ?? '');
  if ('showStack' in source) Object.assign(masked, { showStack: source.showStack });
  return masked;
}

/** Runs `body`; an error leaving it is masked with `log`'s secrets. */
export async function masked<T>(log: Logger, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw maskError(error, log);
  }
}
