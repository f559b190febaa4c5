// The pure parts of publishing: which failures are retried and how long the wait
// is, where the API and uploads live (github.com, GitHub Enterprise), SHA256SUMS
// parsing, and the token rules.
import test from 'ava';
import { Logger } from '../lib/logger.ts';
import { endpoints } from '../tasks/publish/github-client.ts';
import { readToken } from '../tasks/publish/token.ts';
import { parseSums } from '../lib/manifest.ts';
import { decide, DEFAULT_RETRY, rateLimitWait } from '../tasks/publish/retry.ts';

const half = () => 0.5;

test('5xx, 429 and network errors are retried with exponential back-off and jitter; other 4xx are not', (t) => {
  const delays = [1, 2, 3, 4].map((attempt) => decide({ status: 502, message: 'Bad Gateway' }, attempt, DEFAULT_RETRY, half));
  t.deepEqual(delays.map((d) => (d.retry ? d.delayMs : -1)), [375, 750, 1500, 3000]);
  const spread = new Set(Array.from({ length: 50 }, () => { const d = decide({ message: 'socket hang up' }, 3); return d.retry ? d.delayMs : -1; }));
  t.true(spread.size > 10, 'jittered');
  for (const d of spread) t.true(d >= 1000 && d <= 2000);
  t.false(decide({ status: 502, message: '' }, 5).retry, 'attempts are bounded');
  for (const status of [400, 401, 404, 409, 422]) t.false(decide({ status, message: '' }, 1).retry, `HTTP ${status}`);
  t.false(decide({ status: 403, message: 'Resource not accessible by integration' }, 1).retry, 'a plain 403 is a permission problem');
});

test('rate limits wait what the server says: retry-after (seconds or date), x-ratelimit-reset, a minute for a bare secondary limit', (t) => {
  const now = 1_700_000_000_000;
  t.is(rateLimitWait({ status: 403, headers: { 'retry-after': '7' }, message: 'secondary rate limit' }, now), 7000);
  t.is(rateLimitWait({ status: 429, headers: { 'retry-after': new Date(now + 3000).toUTCString() }, message: '' }, now), 3000);
  t.is(rateLimitWait({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) }, message: 'API rate limit exceeded' }, now), 42_000);
  t.is(rateLimitWait({ status: 403, message: 'You have exceeded a secondary rate limit' }, now), 60_000);
  t.is(rateLimitWait({ status: 403, message: 'Must have admin rights' }, now), undefined);
  const tooLong = decide({ status: 403, headers: { 'retry-after': '3600' }, message: '' }, 1);
  t.false(tooLong.retry);
  t.regex(tooLong.reason, /rate limited for 3600s, more than the 300s this run waits/);
  const waited = decide({ status: 429, headers: { 'retry-after': '2' }, message: '' }, 1, DEFAULT_RETRY, half);
  t.deepEqual(waited, { retry: true, delayMs: 2250, reason: 'rate limited' });
});

test('API and upload hosts: github.com (default or named), GitHub Enterprise from its base URL, clear-text tokens refused off loopback', (t) => {
  const github = { api: 'https://api.github.com', uploads: 'https://uploads.github.com' };
  t.deepEqual(endpoints(null), github);
  // github.com written out is github.com, not an Enterprise host under /api/v3.
  for (const base of ['https://api.github.com', 'https://api.github.com/', 'https://github.com', 'https://github.com/', 'https://GitHub.com']) t.deepEqual(endpoints(base), github, base);
  const ghes = { api: 'https://ghe.example.com/api/v3', uploads: 'https://ghe.example.com/api/uploads' };
  for (const base of ['https://ghe.example.com', 'https://ghe.example.com/', 'https://ghe.example.com/api/v3', 'https://ghe.example.com/api/v3/']) t.deepEqual(endpoints(base), ghes, base);
  t.deepEqual(endpoints('https://example.com/github'), { api: 'https://example.com/github/api/v3', uploads: 'https://example.com/github/api/uploads' });
  t.deepEqual(endpoints('http://127.0.0.1:8080'), { api: 'http://127.0.0.1:8080/api/v3', uploads: 'http://127.0.0.1:8080/api/uploads' });
  t.throws(() => endpoints('http://ghe.example.com'), { message: /expected an https:\/\/ URL \(the token would travel in clear text\)/ });
});

test('SHA256SUMS lines in text and binary mode', (t) => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  t.deepEqual(parseSums(`${a}  registry-v2.8.3.xz\n${b} *auth_server-1.14.0.xz\nnot a line\n`), new Map([['registry-v2.8.3.xz', a], ['auth_server-1.14.0.xz', b]]));
});

test('the token comes from GITHUB_TOKEN, else GH_TOKEN, and is masked as soon as it is read', (t) => {
  let text = '';
  const log = new Logger({ err: (s) => void (text += s) });
  t.is(readToken({ GH_TOKEN: 'ghp_second', GITHUB_TOKEN: 'ghp_first_token' }, log), 'ghp_first_token');
  t.is(readToken({ GH_TOKEN: 'ghp_second' }, log), 'ghp_second');
  log.info('Authorization: Bearer ghp_first_token / ghp_second');
  t.is(text, 'Authorization: Bearer *** / ***\n');
  t.throws(() => readToken({ GH_USER: 'me', GH_PASSWORD: 'hunter22' }, log), { message: /no longer accepts account passwords/ });
  t.is(log.mask('hunter22'), '***', 'even a refused password is masked');
});
