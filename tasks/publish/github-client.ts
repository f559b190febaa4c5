// The GitHub side of publishing: the token, the API and upload hosts (github.com
// or GitHub Enterprise), and an octokit for the JSON endpoints whose requests go
// through the retry policy and whose logs go through the masking logger.
// (The token rules are in token.ts: doctor and every gulp start-up use them
// without loading octokit.)
import { Octokit } from '@octokit/rest';
import type { Context } from '../../lib/context.ts';
import { UserError } from '../../lib/errors.ts';
import { HttpError, USER_AGENT } from './http.ts';
import { DEFAULT_RETRY, rateLimitWait, retryMessage, withRetry, type Failure, type RetryOptions } from './retry.ts';

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

/**
 * The URL, when the token may go there: the API's own origin, or the upload origin
 * GitHub documents for it (uploads.github.com for github.com; the API's host, on
 * any port, for GitHub Enterprise); clear-text http only on loopback. Anything
 * else, such as an upload_url or asset url a server answered with, is refused.
 */
export function checkTokenDestination(url: string, allowed: Endpoints, what: string): string {
  const target = new URL(url);
  const api = new URL(allowed.api);
  const uploads = new URL(allowed.uploads);
  const enterprise = api.hostname !== 'api.github.com';
  const known = target.origin === api.origin || target.origin === uploads.origin || (enterprise && target.protocol === api.protocol && target.hostname === api.hostname);
  const clear = target.protocol !== 'https:' && !LOOPBACK.has(target.hostname);
  if (!known || clear) {
    throw new UserError(`publish: refusing to send the GitHub token to ${target.origin} (${what}); it goes only to ${api.origin} and ${uploads.origin}${clear ? ', and never in clear text off loopback' : ''}. Check publish.github.base_url, or the server answering there`);
  }
  return url;
}

interface Subject {
  repo: string;
  tag: string;
  api: string;
}

/** What to check for each answer a user can cause. */
function hint(status: number, request: string, { repo, tag, api }: Subject): string | undefined {
  if (status === 401) return 'the token in GITHUB_TOKEN/GH_TOKEN is not accepted: check that it is the right one and has not expired or been revoked';
  if (status === 403) return `the token may not do this: it needs "Contents: read and write" on ${repo} (a classic token: the repo scope), and SSO authorization if the organisation asks for it`;
  if (status === 404) return `check publish.github.repo (${repo}: the repository exists and the token can see it; GitHub answers 404 to a token without access) and, for GitHub Enterprise, publish.github.base_url (API at ${api})`;
  if (status === 422 && /^POST .*\/releases$/.test(request)) return `check publish.github.tag (${tag}: a valid tag name) and that the repository has a commit to tag`;
  return undefined;
}

/** "POST /repos/o/r/releases" of an octokit error; undefined for others. */
function requestOf(error: unknown): string | undefined {
  const request = (error as { request?: { method?: string; url?: string } }).request;
  return request?.method && request.url ? `${request.method} ${new URL(request.url).pathname.replace(/^\/api\/v3(?=\/)/, '')}` : undefined;
}

/**
 * One line for a GitHub answer a user can act on (401, 403 that is no rate limit,
 * 404, 422 when creating the release): the repository, the release, GitHub's own
 * words and what to check. Undefined for anything else.
 */
export function explain(error: unknown, subject: Subject): string | undefined {
  // The answer itself, or what it caused: an upload's failure wraps it, several failures wrap the first.
  let answer = error;
  while (answer instanceof Error && !classify(answer) && answer.cause !== undefined) answer = answer.cause;
  const failure = classify(answer);
  if (failure?.status === undefined || (failure.status === 403 && rateLimitWait(failure) !== undefined)) return undefined;
  const request = requestOf(answer) ?? '';
  const check = hint(failure.status, request, subject);
  if (!check) return undefined;
  const said = failure.message.split('\n')[0]!.replace(/ - https:\/\/docs\.github\.com\S*/, '').replace(/^HTTP \d+ /, '');
  return `github ${subject.repo} release ${subject.tag}: GitHub answered ${failure.status} (${said})${request ? ` to ${request}` : ''}; ${check}`;
}

/** Idempotent methods are retried here; a POST is retried by its caller, which knows how to check what happened. */
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE']);

export function createOctokit(ctx: Pick<Context, 'log'>, token: string, at: Endpoints, retry: RetryOptions = DEFAULT_RETRY): Octokit {
  const log = ctx.log;
  const octokit = new Octokit({
    auth: token,
    baseUrl: at.api,
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
    // A page link (Link header) is a full URL the server chose: the token follows it only to the API.
    checkTokenDestination(new URL(String(options.url), `${String(options.baseUrl ?? at.api)}/`).href, { api: at.api, uploads: at.api }, `a link in GitHub's answer`);
    const method = String(options.method ?? 'GET').toUpperCase();
    if (!RETRIED_METHODS.has(method)) return request(options);
    return withRetry(async () => request(options), {
      classify,
      beforeRetry: (failure, attempt, delayMs) => log.warn(retryMessage(`github: ${method} ${String(options.url)}`, failure, attempt, delayMs)),
    }, retry);
  });
  return octokit;
}
