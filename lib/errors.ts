// Errors a user can act on carry `showStack = false`: gulp-cli then prints
// "Name: message" instead of a stack trace. Every error leaving a task is
// masked first, so a secret inside a failed command line never reaches gulp.
import type { Logger } from './logger.ts';

export class UserError extends Error {
  readonly showStack = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Error';
  }
}

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
