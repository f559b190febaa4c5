// Retry policy for GitHub requests: exponential back-off with full jitter on
// network errors, 5xx and 429; rate limits (429, or 403 with retry-after or an
// exhausted x-ratelimit) wait what the server asks. Other 4xx are final.
import { setTimeout as sleep } from 'node:timers/promises';

/** What a failed attempt tells the policy: an HTTP status and headers, or neither (network). */
export interface Failure {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  message: string;
}

export interface RetryOptions {
  attempts: number;
  /** First back-off step; doubled on every attempt, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A rate limit asking for a longer wait than this fails instead of sleeping. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 20_000, maxRateLimitWaitMs: 5 * 60_000 };

export type Decision = { retry: false; reason: string } | { retry: true; delayMs: number; reason: string };

function header(failure: Failure, name: string): string | undefined {
  const value = failure.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Milliseconds a rate-limited response asks to wait, or undefined when it is not a rate limit. */
export function rateLimitWait(failure: Failure, now = Date.now()): number | undefined {
  const retryAfter = header(failure, 'retry-after');
  const remaining = header(failure, 'x-ratelimit-remaining');
  const reset = header(failure, 'x-ratelimit-reset');
  const limited = failure.status === 429 || (failure.status === 403 && (retryAfter !== undefined || remaining === '0' || /rate limit/i.test(failure.message)));
  if (!limited) return undefined;
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  if (remaining === '0' && reset !== undefined && Number.isFinite(Number(reset))) return Math.max(0, Number(reset) * 1000 - now);
  // A secondary limit without a hint: GitHub documents waiting at least a minute.
  return 60_000;
}

function backoff(attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Whether attempt number `attempt` (1-based) that failed this way is tried again, and after how long. */
export function decide(failure: Failure, attempt: number, options: RetryOptions = DEFAULT_RETRY, random = Math.random): Decision {
  const wait = rateLimitWait(failure);
  const transient = failure.status === undefined || failure.status >= 500 || wait !== undefined;
  if (!transient) return { retry: false, reason: `HTTP ${failure.status}` };
  if (attempt >= options.attempts) return { retry: false, reason: `gave up after ${attempt} attempts` };
  if (wait !== undefined) {
    if (wait > options.maxRateLimitWaitMs) {
      return { retry: false, reason: `rate limited for ${Math.ceil(wait / 1000)}s, more than the ${Math.ceil(options.maxRateLimitWaitMs / 1000)}s this run waits` };
    }
    // Jitter on top, so that parallel uploads do not all come back at the same instant.
    return { retry: true, delayMs: wait + Math.round(random() * options.baseDelayMs), reason: 'rate limited' };
  }
  return { retry: true, delayMs: backoff(attempt, options, random), reason: failure.status === undefined ? 'network error' : `HTTP ${failure.status}` };
}

export interface RetryHooks {
  /** Turns what the attempt threw into a Failure; anything it returns undefined for is rethrown at once. */
  classify(error: unknown): Failure | undefined;
  /** Called before each new attempt (log it, clean up what the failed attempt left). */
  beforeRetry?(failure: Failure, attempt: number, delayMs: number): void | Promise<void>;
}

/** The log line before another attempt: "<what> failed (<why>); attempt 2 in 0.7s". */
export function retryMessage(what: string, failure: Failure, attempt: number, delayMs: number): string {
  return `${what} failed (${failure.message}); attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)}s`;
}

/** Runs `attempt` until it succeeds or the policy gives up; the last error is rethrown with the policy's reason. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, hooks: RetryHooks, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const failure = hooks.classify(error);
      if (!failure) throw error;
      const decision = decide(failure, n, options);
      if (!decision.retry) {
        if (n > 1 && error instanceof Error) error.message = `${error.message} (${decision.reason})`;
        throw error;
      }
      await hooks.beforeRetry?.(failure, n, decision.delayMs);
      await sleep(decision.delayMs);
    }
  }
}
