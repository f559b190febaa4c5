// Uploads and downloads of release assets over node:http(s), streamed.
// octokit is not used for these: @octokit/request hands the body to fetch
// (undici), which sends a stream with chunked transfer-encoding and no
// Content-Length (GitHub's upload endpoint wants the length), and gives no
// progress. Here the body is piped from disk with backpressure, so memory does
// not grow with the file, and every attempt opens its own stream.
// The token only ever travels in the Authorization header, and only to the
// origin it was meant for (a redirect to another host drops it, as S3 requires).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

export const USER_AGENT = 'corpus-kit-publish';
const API_VERSION = '2022-11-28';
/** A bigger read than the default 64 KiB: fewer syscalls, still flat memory. */
const READ_CHUNK = 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_REDIRECTS = 5;

/** A response with an error status; carries what the retry policy needs. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A failure on our side (the file could not be read): never retried. */
class LocalFileError extends Error {
  override name = 'LocalFileError';
}

interface BaseRequest {
  token: string;
  /** Inactivity limit of the socket. */
  timeoutMs: number;
}

interface UploadRequest extends BaseRequest {
  /** The release's upload_url with the `{?name,label}` template expanded. */
  url: string;
  path: string;
  size: number;
  contentType: string;
  onProgress?(bytes: number): void;
}

function client(url: URL) {
  return url.protocol === 'https:' ? https : http;
}

function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'user-agent': USER_AGENT, 'x-github-api-version': API_VERSION };
}

async function readBody(response: IncomingMessage, limit = MAX_ERROR_BODY): Promise<string> {
  let text = '';
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (text.length < limit) text += chunk.toString('utf8');
  }
  return text;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** GitHub's error text: message plus the codes of its `errors` list. */
function describeBody(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 200);
  if (!body || typeof body !== 'object') return '';
  const { message, errors } = body as { message?: string; errors?: { code?: string; field?: string; message?: string }[] };
  const details = (errors ?? []).map((e) => e.message ?? [e.code, e.field].filter(Boolean).join(' ')).filter(Boolean);
  return [message, details.length ? `(${details.join(', ')})` : ''].filter(Boolean).join(' ');
}

/** The error for a response with an error status, from its (already read) body text. */
function httpError(response: IncomingMessage, text: string): HttpError {
  const status = response.statusCode ?? 0;
  const parsed = parse(text);
  return new HttpError(`HTTP ${status} ${describeBody(parsed)}`.trim(), status, response.headers, parsed);
}

function failOnTimeout(request: http.ClientRequest, timeoutMs: number): void {
  request.setTimeout(timeoutMs, () => {
    const error = Object.assign(new Error(`no data for ${(timeoutMs / 1000).toFixed(1)}s`), { code: 'ETIMEDOUT' });
    request.destroy(error);
  });
}

/** POSTs the file at `path` as the request body; resolves with the parsed 2xx body. */
export function uploadFile(upload: UploadRequest): Promise<unknown> {
  const url = new URL(upload.url);
  return new Promise((resolve, reject) => {
    const body = createReadStream(upload.path, { highWaterMark: READ_CHUNK });
    const request = client(url).request(url, {
      method: 'POST',
      headers: {
        ...authHeaders(upload.token),
        accept: 'application/vnd.github+json',
        'content-type': upload.contentType,
        'content-length': String(upload.size),
      },
    });
    failOnTimeout(request, upload.timeoutMs);
    let sent = 0;
    body.on('data', (chunk) => {
      sent += chunk.length;
      upload.onProgress?.(sent);
    });
    body.on('end', () => {
      if (sent !== upload.size) request.destroy(new LocalFileError(`${upload.path} changed while uploading (${sent} bytes read, ${upload.size} expected)`));
    });
    body.on('error', (error) => request.destroy(new LocalFileError(`${upload.path}: ${error.message}`)));
    request.on('error', (error) => {
      body.destroy();
      reject(error);
    });
    request.on('response', (response) => {
      // The server may answer before the body is sent (401, 422): stop sending.
      body.unpipe(request);
      body.destroy();
      readBody(response).then((text) => {
        // A body cut short leaves the socket unusable; a complete one is done with anyway.
        request.destroy();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(parse(text));
        else reject(httpError(response, text));
      }, reject);
    });
    body.pipe(request);
  });
}

interface Download {
  size: number;
  sha256: string;
}

/** GETs an asset's bytes (API url with Accept: octet-stream, following the redirect) and hashes them as they stream. */
export async function downloadSha256(assetUrl: string, request: BaseRequest): Promise<Download> {
  const origin = new URL(assetUrl).origin;
  let url = new URL(assetUrl);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/octet-stream', 'user-agent': USER_AGENT };
      if (url.origin === origin) Object.assign(headers, authHeaders(request.token));
      const req = client(url).get(url, { headers }, resolve);
      failOnTimeout(req, request.timeoutMs);
      req.on('error', reject);
    });
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      url = new URL(response.headers.location, url);
      continue;
    }
    if (status !== 200) throw httpError(response, await readBody(response));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    if (!response.complete) throw Object.assign(new Error('download ended early'), { code: 'ECONNRESET' });
    return { size, sha256: hash.digest('hex') };
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}
