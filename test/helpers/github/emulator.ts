// A GitHub REST emulator for the release endpoints, over real HTTP on 127.0.0.1:
// the API (GitHub Enterprise layout: /api/v3) on one port, uploads (/api/uploads)
// and asset downloads (the redirect target, like S3) on another. It checks the
// token, answers with GitHub-shaped bodies, records every request, keeps a
// snapshot of the assets after every change, and plays scripted faults.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assetBody, DOCS, releaseBody, validationFailed,
  type AssetRecord, type Hosts, type ReleaseRecord,
} from './shapes.ts';

export type Server = 'api' | 'uploads';

export interface RecordedRequest {
  server: Server;
  method: string;
  /** Path and query as received. */
  path: string;
  status: number;
  /** Headers as received (tests check where the token went). */
  headers: http.IncomingHttpHeaders;
  startedAt: number;
  endedAt: number;
  /** Request body bytes received (uploads). */
  bytes: number;
  /** The JSON body of an API request that had one. */
  body?: Record<string, unknown>;
}

export interface Snapshot {
  /** The request that changed the state: "POST /api/uploads/...". */
  after: string;
  /** Its index in `requests`. */
  request: number;
  assets: { id: number; name: string; state: string; sha256: string | null }[];
}

export type FaultEffect =
  /** Answer with this status and body without doing anything (422, 403 rate limit, 500...). */
  | { type: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Upload: create the asset (state starter), take `bytes` of the body, then answer 502. */
  | { type: 'fail-after'; bytes: number; status?: number }
  /** Upload: create the asset (state starter), take `bytes` of the body, then reset the connection. */
  | { type: 'reset-after'; bytes: number }
  /** Wait before handling; uploads are also read at `bytesPerSecond` when given. */
  | { type: 'slow'; delayMs: number; bytesPerSecond?: number }
  /** Upload: accept it, but store different bytes than were sent (a corrupted copy). */
  | { type: 'corrupt' }
  /** Upload: store the asset whole, then answer this status (a lost answer: a retry finds the name taken). */
  | { type: 'store-then-status'; status: number; body?: unknown }
  /** Any request: first change one byte of the named asset on the server (another hand altered it), then answer as usual. */
  | { type: 'tamper'; asset: string };

export interface Fault {
  server?: Server;
  method?: string;
  /** Tested against the path without the API or upload prefix, query included. */
  path?: RegExp;
  /** How many requests it hits; Infinity for every one. */
  times?: number;
  effect: FaultEffect;
}

export interface EmulatorOptions {
  /** The one token accepted. */
  token: string;
  /** Assets carry `digest` (GitHub since 2025); false emulates a server without it. */
  digests?: boolean;
  /** Keep uploaded bytes for downloads; false (the benchmark) hashes and discards them. */
  keepBodies?: boolean;
}

const API_PREFIX = '/api/v3';
const UPLOAD_PREFIX = '/api/uploads';

interface Route {
  method: string;
  pattern: RegExp;
  handle(req: IncomingMessage, res: ServerResponse, match: RegExpMatchArray, input: Record<string, unknown>): Promise<void> | void;
}

function now(agoMs = 0): string {
  return new Date(Date.now() - agoMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) } : {}),
    'x-github-media-type': 'github.v3; format=json',
    'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
    ...headers,
  });
  res.end(text);
}

async function readJson(body: AsyncIterable<Buffer>): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of body) text += chunk.toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export class GitHubEmulator {
  readonly requests: RecordedRequest[] = [];
  readonly snapshots: Snapshot[] = [];
  /** Every asset deleted, as it was just before. */
  readonly deleted: { id: number; name: string; state: string; sha256: string | null }[] = [];
  readonly #options: Required<EmulatorOptions>;
  readonly #faults: (Fault & { left: number })[] = [];
  readonly #releases: ReleaseRecord[] = [];
  readonly #assets = new Map<number, AssetRecord>();
  readonly #servers: Record<Server, http.Server>;
  #nextId = 5000;
  #hosts: Hosts = { api: '', uploads: '', web: '' };

  private constructor(options: EmulatorOptions) {
    this.#options = { digests: true, keepBodies: true, ...options };
    this.#servers = {
      api: http.createServer((req, res) => this.#serve('api', req, res)),
      uploads: http.createServer((req, res) => this.#serve('uploads', req, res)),
    };
  }

  static async start(options: EmulatorOptions): Promise<GitHubEmulator> {
    const emulator = new GitHubEmulator(options);
    const ports: Partial<Record<Server, number>> = {};
    for (const server of ['api', 'uploads'] as const) {
      emulator.#servers[server].listen(0, '127.0.0.1');
      await once(emulator.#servers[server], 'listening');
      ports[server] = (emulator.#servers[server].address() as AddressInfo).port;
    }
    emulator.#hosts = {
      api: `http://127.0.0.1:${ports.api}${API_PREFIX}`,
      uploads: `http://127.0.0.1:${ports.uploads}${UPLOAD_PREFIX}`,
      web: `http://127.0.0.1:${ports.api}`,
    };
    return emulator;
  }

  /** What to put in publish.github.base_url. */
  get baseUrl(): string {
    return this.#hosts.web;
  }

  get hosts(): Hosts {
    return this.#hosts;
  }

  /** Where the answers point from now on (upload_url; web: page links, download urls): a hostile or misconfigured server. */
  setHost(kind: 'uploads' | 'web', root: string): void {
    this.#hosts = { ...this.#hosts, [kind]: root };
  }

  async stop(): Promise<void> {
    for (const server of Object.values(this.#servers)) {
      server.closeAllConnections();
      server.close();
    }
  }

  fault(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Requests that change something (anything but GET and HEAD). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  }

  releases(repo: string): Record<string, unknown>[] {
    return this.#releases.filter((r) => r.repo === repo).map((r) => this.#releaseBody(r));
  }

  /** Assets of the release with this tag (the first one found), as GitHub shows them. */
  assets(repo: string, tag: string): Record<string, unknown>[] {
    const release = this.#releases.find((r) => r.repo === repo && r.tag_name === tag);
    return release ? this.#assetsOf(release).map((a) => assetBody(this.#hosts, release, a, this.#options.digests)) : [];
  }

  /** The stored bytes of an asset of the release with this tag. */
  content(repo: string, tag: string, name: string): Buffer | null | undefined {
    const release = this.#releases.find((r) => r.repo === repo && r.tag_name === tag);
    return release && this.#assetsOf(release).find((a) => a.name === name)?.content;
  }

  /** Moves an asset's created_at and updated_at `ms` into the past: an upload made that long ago, without waiting. */
  backdate(repo: string, tag: string, name: string, ms: number): void {
    const release = this.#releases.find((r) => r.repo === repo && r.tag_name === tag);
    for (const asset of release ? this.#assetsOf(release).filter((a) => a.name === name) : []) Object.assign(asset, { created_at: now(ms), updated_at: now(ms) });
  }

  /** Puts a release (and its assets) in place, as a previous run or another tool would have left it. */
  seedRelease(repo: string, release: { tag: string; draft?: boolean; assets?: { name: string; content: Buffer | string; state?: 'starter' | 'uploaded'; ageMs?: number }[] }): number {
    const record = this.#createRelease(repo, { tag_name: release.tag, name: release.tag, draft: release.draft ?? false });
    for (const asset of release.assets ?? []) {
      const content = Buffer.from(asset.content);
      const state = asset.state ?? 'uploaded';
      this.#assets.set(this.#nextId, {
        id: this.#nextId++, releaseId: record.id, name: asset.name, label: null, content_type: 'application/octet-stream', state,
        size: state === 'uploaded' ? content.length : 0, sha256: state === 'uploaded' ? createHash('sha256').update(content).digest('hex') : null,
        content: state === 'uploaded' ? content : null, created_at: now(asset.ageMs), updated_at: now(asset.ageMs),
      });
    }
    return record.id;
  }

  #createRelease(repo: string, input: { tag_name: string; name?: string | null; body?: string | null; draft?: boolean; prerelease?: boolean; target_commitish?: string }): ReleaseRecord {
    const draft = input.draft ?? false;
    const record: ReleaseRecord = {
      id: this.#nextId++, repo, tag_name: input.tag_name, name: input.name ?? null, body: input.body ?? null, draft,
      prerelease: input.prerelease ?? false, target_commitish: input.target_commitish ?? 'main', created_at: now(), published_at: draft ? null : now(),
    };
    this.#releases.unshift(record); // newest first, as GitHub lists them
    return record;
  }

  #assetsOf(release: ReleaseRecord): AssetRecord[] {
    return [...this.#assets.values()].filter((a) => a.releaseId === release.id);
  }

  #releaseBody(release: ReleaseRecord): Record<string, unknown> {
    return releaseBody(this.#hosts, release, this.#assetsOf(release).map((a) => assetBody(this.#hosts, release, a, this.#options.digests)));
  }

  #snapshot(after: string, request: number): void {
    this.snapshots.push({ after, request, assets: [...this.#assets.values()].map((a) => ({ id: a.id, name: a.name, state: a.state, sha256: a.sha256 })) });
  }

  #takeFault(server: Server, method: string, path: string): FaultEffect | undefined {
    const fault = this.#faults.find((f) => f.left > 0 && (!f.server || f.server === server) && (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (!fault) return undefined;
    fault.left--;
    return fault.effect;
  }

  #tamper(name: string): void {
    for (const asset of [...this.#assets.values()].filter((a) => a.name === name && a.content && a.content.length > 0)) {
      const content = Buffer.from(asset.content!);
      content[0]! ^= 0xff;
      Object.assign(asset, { content, sha256: createHash('sha256').update(content).digest('hex'), updated_at: now() });
    }
  }

  async #serve(server: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = { server, method: req.method ?? 'GET', path: req.url ?? '/', status: 0, headers: req.headers, startedAt: performance.now(), endedAt: 0, bytes: 0 };
    this.requests.push(record);
    res.on('close', () => {
      record.status = res.headersSent ? res.statusCode : 0;
      record.endedAt = performance.now();
      if (record.method !== 'GET' && (res.statusCode < 300 || effect?.type === 'store-then-status')) this.#snapshot(`${record.method} ${record.path}`, this.requests.indexOf(record));
    });
    const url = new URL(record.path, 'http://emulator');
    const isDownload = server === 'uploads' && url.pathname.startsWith('/download/');
    const prefix = server === 'api' ? API_PREFIX : UPLOAD_PREFIX;
    const path = `${url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname}${url.search}`;
    let effect: FaultEffect | undefined;
    let body: AsyncIterable<Buffer> = req;
    try {
      effect = this.#takeFault(server, record.method, path);
      if (effect?.type === 'tamper') this.#tamper(effect.asset);
      if (effect?.type === 'slow' && effect.bytesPerSecond) await sleep(effect.delayMs);
      else if (effect?.type === 'slow') {
        // A client that gave up meanwhile (a socket timeout) gets nothing done for it: a real server
        // creates the asset on arrival, not after the client left, when the retry may be done. The body
        // is taken in while the answer stalls (as the server's socket buffers it), so that the client's
        // leaving is seen even when it had sent a whole upload: the end of a stream is read after its data.
        const early: Buffer[] = [];
        let gone = false;
        const take = (chunk: Buffer) => void early.push(chunk);
        const leave = () => void (gone = true);
        req.on('data', take);
        res.once('close', leave);
        await sleep(effect.delayMs);
        // Timers run before I/O: on a busy machine the client's close may be waiting behind this wake-up.
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        req.pause();
        req.off('data', take);
        res.off('close', leave);
        if (gone || req.socket.destroyed) return;
        body = (async function* () {
          yield* early;
          yield* req as AsyncIterable<Buffer>;
        })();
        effect = undefined;
      }
      if (effect?.type === 'status') return send(res, effect.status, effect.body, effect.headers);
      if (isDownload) return this.#download(req, res, url);
      if (server === 'api' && !url.pathname.startsWith(API_PREFIX)) return this.#browserDownload(res, url);
      if (!this.#authorized(req)) return send(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      const route = (server === 'api' ? this.#apiRoutes : this.#uploadRoutes).map((r) => ({ r, m: r.method === record.method ? r.pattern.exec(url.pathname.slice(prefix.length)) : null })).find((x) => x.m);
      if (!route) return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      if (route.r === this.#uploadRoutes[0]) return await this.#upload(req, body, res, route.m!, url, effect, record);
      if (record.method === 'POST' || record.method === 'PATCH') record.body = await readJson(body);
      await route.r.handle(req, res, route.m!, record.body ?? {});
    } catch (error) {
      send(res, 500, { message: `emulator: ${(error as Error).message}` });
    }
  }

  #authorized(req: IncomingMessage): boolean {
    const match = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '');
    return match?.[1] === this.#options.token;
  }

  #release(match: RegExpMatchArray, id = Number(match[3])): ReleaseRecord | undefined {
    return this.#releases.find((r) => r.repo === `${match[1]}/${match[2]}` && r.id === id);
  }

  #asset(match: RegExpMatchArray): { asset: AssetRecord; release: ReleaseRecord } | undefined {
    const asset = this.#assets.get(Number(match[3]));
    const release = asset && this.#release(match, asset.releaseId);
    return asset && release ? { asset, release } : undefined;
  }

  #notFound(res: ServerResponse): void {
    send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }

  /** GitHub's pagination: per_page (max 100) and page, with a Link header. */
  #page(req: IncomingMessage, res: ServerResponse, items: unknown[]): void {
    const url = new URL(req.url ?? '/', this.#hosts.web);
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string) => {
      const target = new URL(url);
      target.searchParams.set('page', String(p));
      return `<${this.#hosts.web}${target.pathname}${target.search}>; rel="${rel}"`;
    };
    const links = [page < last ? link(page + 1, 'next') : '', page < last ? link(last, 'last') : '', page > 1 ? link(1, 'first') : '', page > 1 ? link(page - 1, 'prev') : ''].filter(Boolean);
    send(res, 200, items.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
  }

  readonly #apiRoutes: Route[] = [
    {
      method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases$/,
      handle: (req, res, m) => this.#page(req, res, this.#releases.filter((r) => r.repo === `${m[1]}/${m[2]}`).map((r) => this.#releaseBody(r))),
    },
    {
      method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases$/,
      handle: (_req, res, m, input) => {
        const repo = `${m[1]}/${m[2]}`;
        if (typeof input.tag_name !== 'string') return send(res, 422, validationFailed('Release', 'tag_name', 'missing_field'));
        if (this.#releases.some((r) => r.repo === repo && r.tag_name === input.tag_name && !r.draft)) return send(res, 422, validationFailed('Release', 'tag_name'));
        send(res, 201, this.#releaseBody(this.#createRelease(repo, input as { tag_name: string })));
      },
    },
    {
      // Like GitHub: drafts are not found by tag.
      method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/tags\/(.+)$/,
      handle: (_req, res, m) => {
        const release = this.#releases.find((r) => r.repo === `${m[1]}/${m[2]}` && r.tag_name === decodeURIComponent(m[3]!) && !r.draft);
        return release ? send(res, 200, this.#releaseBody(release)) : this.#notFound(res);
      },
    },
    {
      method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)$/,
      handle: (_req, res, m) => {
        const release = this.#release(m);
        return release ? send(res, 200, this.#releaseBody(release)) : this.#notFound(res);
      },
    },
    {
      method: 'PATCH', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)$/,
      handle: (_req, res, m, input) => {
        const release = this.#release(m);
        if (!release) return this.#notFound(res);
        for (const key of ['tag_name', 'name', 'body', 'target_commitish', 'prerelease'] as const) {
          if (key in input) Object.assign(release, { [key]: input[key] });
        }
        if (input.draft === false && release.draft) Object.assign(release, { draft: false, published_at: now() });
        send(res, 200, this.#releaseBody(release));
      },
    },
    {
      method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)$/,
      handle: (_req, res, m) => {
        const release = this.#release(m);
        if (!release) return this.#notFound(res);
        this.#releases.splice(this.#releases.indexOf(release), 1);
        for (const asset of this.#assetsOf(release)) this.#assets.delete(asset.id);
        send(res, 204);
      },
    },
    {
      method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)\/assets$/,
      handle: (req, res, m) => {
        const release = this.#release(m);
        if (!release) return this.#notFound(res);
        this.#page(req, res, this.#assetsOf(release).map((a) => assetBody(this.#hosts, release, a, this.#options.digests)));
      },
    },
    {
      method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/assets\/(\d+)$/,
      handle: (req, res, m) => {
        const found = this.#asset(m);
        if (!found) return this.#notFound(res);
        if (req.headers.accept === 'application/octet-stream') {
          // GitHub redirects to a signed URL on another host, which refuses an Authorization header.
          const signature = createHash('sha256').update(`${found.asset.id}:${this.#options.token}`).digest('hex');
          return send(res, 302, undefined, { location: `${new URL(this.#hosts.uploads).origin}/download/${found.asset.id}?X-Amz-Signature=${signature}` });
        }
        send(res, 200, assetBody(this.#hosts, found.release, found.asset, this.#options.digests));
      },
    },
    {
      method: 'PATCH', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/assets\/(\d+)$/,
      handle: (_req, res, m, input) => {
        const found = this.#asset(m);
        if (!found) return this.#notFound(res);
        if (typeof input.name === 'string' && input.name !== found.asset.name && this.#assetsOf(found.release).some((a) => a.name === input.name)) {
          return send(res, 422, validationFailed('ReleaseAsset', 'name'));
        }
        if (typeof input.name === 'string') found.asset.name = input.name;
        if ('label' in input) found.asset.label = (input.label as string | null) ?? null;
        found.asset.updated_at = now();
        send(res, 200, assetBody(this.#hosts, found.release, found.asset, this.#options.digests));
      },
    },
    {
      method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/assets\/(\d+)$/,
      handle: (_req, res, m) => {
        const found = this.#asset(m);
        if (!found) return this.#notFound(res);
        this.#assets.delete(found.asset.id);
        this.deleted.push({ id: found.asset.id, name: found.asset.name, state: found.asset.state, sha256: found.asset.sha256 });
        send(res, 204);
      },
    },
  ];

  readonly #uploadRoutes: Route[] = [
    // Handled by #upload (it needs the fault); the pattern routes it.
    { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)\/assets$/, handle: () => undefined },
  ];

  async #upload(req: IncomingMessage, body: AsyncIterable<Buffer>, res: ServerResponse, m: RegExpMatchArray, url: URL, effect: FaultEffect | undefined, record: RecordedRequest): Promise<void> {
    const release = this.#release(m);
    if (!release) return this.#notFound(res);
    const name = url.searchParams.get('name');
    if (!name) return send(res, 422, validationFailed('ReleaseAsset', 'name', 'missing_field'), { connection: 'close' });
    const length = req.headers['content-length'];
    if (length === undefined) return send(res, 411, { message: 'Length Required', documentation_url: DOCS }, { connection: 'close' });
    // A name taken, even by an asset stuck in `starter`, is refused (as GitHub does).
    if (this.#assetsOf(release).some((a) => a.name === name)) return send(res, 422, validationFailed('ReleaseAsset', 'name'), { connection: 'close' });
    const asset: AssetRecord = {
      id: this.#nextId++, releaseId: release.id, name, label: url.searchParams.get('label'), content_type: req.headers['content-type'] ?? 'application/octet-stream',
      state: 'starter', size: 0, sha256: null, content: null, created_at: now(), updated_at: now(),
    };
    this.#assets.set(asset.id, asset);
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let received = 0;
    for await (const chunk of body) {
      record.bytes += chunk.length;
      if (res.headersSent) continue; // failed already: drain what the client still sends
      hash.update(chunk);
      if (this.#options.keepBodies) kept.push(chunk);
      received += chunk.length;
      if (effect?.type === 'slow' && effect.bytesPerSecond) await sleep((chunk.length / effect.bytesPerSecond) * 1000);
      if ((effect?.type === 'fail-after' || effect?.type === 'reset-after') && received >= effect.bytes) {
        if (effect.type === 'reset-after') {
          req.socket.destroy();
          return;
        }
        send(res, effect.status ?? 502, { message: 'Server Error' }, { connection: 'close' });
      }
    }
    if (res.headersSent) return;
    if (received !== Number(length)) return; // the client went away: the asset stays in `starter`, as on GitHub
    let content = this.#options.keepBodies ? Buffer.concat(kept) : null;
    let sha256 = hash.digest('hex');
    if (effect?.type === 'corrupt') {
      content = Buffer.from(content ?? Buffer.alloc(0));
      if (content.length > 0) content[content.length - 1]! ^= 0xff;
      sha256 = createHash('sha256').update(content).digest('hex');
    }
    Object.assign(asset, { state: 'uploaded', size: received, sha256, content, updated_at: now() });
    if (effect?.type === 'store-then-status') return send(res, effect.status, effect.body, { connection: 'close' });
    send(res, 201, assetBody(this.#hosts, release, asset, this.#options.digests));
  }

  #download(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const asset = this.#assets.get(Number(url.pathname.split('/')[2]));
    const signature = asset && createHash('sha256').update(`${asset.id}:${this.#options.token}`).digest('hex');
    if (req.headers.authorization) return send(res, 400, { message: 'Only one auth mechanism allowed; the X-Amz-Signature query parameter and the Authorization header were both given' });
    if (!asset || url.searchParams.get('X-Amz-Signature') !== signature) return send(res, 403, { message: 'Signature does not match' });
    this.#sendContent(res, asset);
  }

  /** browser_download_url: public, no token. */
  #browserDownload(res: ServerResponse, url: URL): void {
    const match = /^\/([^/]+\/[^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const release = match && this.#releases.find((r) => r.repo === match[1] && r.tag_name === decodeURIComponent(match[2]!) && !r.draft);
    const asset = release && this.#assetsOf(release).find((a) => a.name === decodeURIComponent(match[3]!) && a.state === 'uploaded');
    if (!asset) return this.#notFound(res);
    this.#sendContent(res, asset);
  }

  #sendContent(res: ServerResponse, asset: AssetRecord): void {
    if (!asset.content) return send(res, 410, { message: 'emulator: this asset body was discarded (keepBodies: false)' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(asset.content.length) });
    res.end(asset.content);
  }
}
