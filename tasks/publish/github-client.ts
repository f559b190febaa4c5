// The GitHub side of publishing: the token, the API and upload hosts (github.com
// or GitHub Enterprise), and an octokit for the JSON endpoints whose requests go
// through the retry policy and whose logs go through the masking logger.
// (The token rules are in token.ts: doctor and every gulp start-up use them
// without loading octokit.)
import { Octokit } from '@octokit/rest';
import type { Context } from '../../lib/context.ts';
import { UserError } from '../../lib/errors.ts';
import { HttpError, USER_AGENT } from './http.ts';
import { DEFAULT_RETRY, retryMessage, withRetry, type Failure, type RetryOptions } from './retry.ts';

export interface Endpoints {
  api: string;
  /** Where uploads go on this host; the release's own upload_url is what is used. */
  uploads: string;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** github.com named explicitly: it has no /api/v3, unlike GitHub Enterprise. */
const GITHUB_COM = new Set(['github.com', 'www.github.com', 'api.github.com']);
const GITHUB_COM_ENDPOINTS: Endpoints = { api: 'https://api.github.com', uploads: 'https://uploads.github.com' };

/** github.com by default; GitHub Enterprise serves the API under /api/v3 and uploads under /api/uploads. */
export function endpoints(baseUrl: string | null): Endpoints {
  if (!baseUrl) return { ...GITHUB_COM_ENDPOINTS };
  const url = new URL(baseUrl);
  if (url.protocol === 'https:' && GITHUB_COM.has(url.hostname)) return { ...GITHUB_COM_ENDPOINTS };
  // The token must not cross the network in clear text; loopback is the test emulator.
  if (url.protocol !== 'https:' && !LOOPBACK.has(url.hostname)) {
    throw new UserError(`publish.github.base_url: expected an https:// URL (the token would travel in clear text), got ${baseUrl}`);
  }
  const root = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api(\/v3)?$/, '')}`;
  return { api: `${root}/api/v3`, uploads: `${root}/api/uploads` };
}

/** Status and headers of an error thrown by octokit or by our own HTTP calls; undefined for our own bugs. */
export function classify(error: unknown): Failure | undefined {
  if (error instanceof HttpError) return { status: error.status, headers: error.headers, message: error.message };
  if (!(error instanceof Error)) return undefined;
  const status = (error as { status?: number }).status;
  if (error.name === 'HttpError' && typeof status === 'number') {
    const cause = (error as { cause?: unknown }).cause;
    // octokit reports a failed fetch (connection refused, reset) as status 500 with the fetch error as cause.
    if (status === 500 && cause instanceof Error && !(error as { response?: unknown }).response) return { message: error.message };
    const headers = (error as { response?: { headers?: Record<string, string> } }).response?.headers;
    return { status, headers, message: error.message };
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code && /^(E[A-Z]+|UND_ERR_\w+)$/.test(code)) return { message: error.message };
  return undefined;
}

/** Idempotent methods are retried here; a POST is retried by its caller, which knows how to check what happened. */
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE']);

export function createOctokit(ctx: Pick<Context, 'log'>, token: string, api: string, retry: RetryOptions = DEFAULT_RETRY): Octokit {
  const log = ctx.log;
  const octokit = new Octokit({
    auth: token,
    baseUrl: api,
    userAgent: USER_AGENT,
    // Only the message string: octokit passes request options (headers) as extra arguments.
    log: {
      debug: (message: string, ...rest: unknown[]) => (rest.length > 0 ? undefined : log.debug(`github: ${message}`)),
      info: (message: string) => log.debug(`github: ${message}`),
      warn: (message: string) => log.warn(`github: ${message}`),
      error: (message: string) => log.debug(`github: ${message}`),
    },
  });
  octokit.hook.wrap('request', (request, options) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    if (!RETRIED_METHODS.has(method)) return request(options);
    return withRetry(async () => request(options), {
      classify,
      beforeRetry: (failure, attempt, delayMs) => log.warn(retryMessage(`github: ${method} ${String(options.url)}`, failure, attempt, delayMs)),
    }, retry);
  });
  return octokit;
}
