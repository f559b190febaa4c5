// What the GitHub target does with answers it cannot trust or the user can fix:
// the token goes only to the API and its upload origin, whatever upload_url or
// page link a server answers with; 401/403/404 and a 422 on create are one line
// naming the repository, the release and what to check (the stack only with
// --verbose); and an asset changed on the server after its upload is caught by
// the final verification, before the release is published.
import test from 'ava';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { endpoints, checkTokenDestination } from '../tasks/publish/github-client.ts';
import { cliProject } from './helpers/github/cli-project.ts';
import { DOCS } from './helpers/github/shapes.ts';
import { assetNames, publishProject, REPO, TAG, TOKEN } from './helpers/github/project.ts';
import { runGulp } from './helpers/gulp.ts';

/** A plain HTTP server on loopback that records who called with what Authorization header. */
async function captureServer(t: import('ava').ExecutionContext) {
  const seen: { path: string; authorization?: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(500).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => void (server.closeAllConnections(), server.close()));
  return { seen, port: (server.address() as AddressInfo).port };
}

test('an upload_url naming another host gets no token: refused with a clear error, nothing uploaded', async (t) => {
  const project = await publishProject(t);
  const capture = await captureServer(t);
  project.emulator.setHost('uploads', `http://localhost:${capture.port}/api/uploads`);
  const run = await project.run();
  t.regex(run.error?.message ?? '', new RegExp(`refusing to send the GitHub token to http://localhost:${capture.port} \\(the upload_url of release ${TAG}\\); it goes only to http://127\\.0\\.0\\.1:\\d+ and http://127\\.0\\.0\\.1:\\d+\\. Check publish\\.github\\.base_url`));
  t.deepEqual(capture.seen, [], 'the other host was never called');
  t.false(project.emulator.requests.some((r) => r.server === 'uploads'));
  t.false(run.all.includes(TOKEN));
});

test('a page link to another host gets no token', async (t) => {
  const project = await publishProject(t);
  for (let i = 0; i < 120; i++) project.emulator.seedRelease(REPO, { tag: `v0.${i}` });
  const capture = await captureServer(t);
  project.emulator.setHost('web', `http://localhost:${capture.port}`);
  const run = await project.run();
  t.regex(run.error?.message ?? '', new RegExp(`refusing to send the GitHub token to http://localhost:${capture.port} \\(a link in GitHub's answer\\)`));
  t.deepEqual(capture.seen, []);
  t.deepEqual(project.emulator.writes(), []);
});

test('where the token may go: the API origin and the documented upload origin; clear text only on loopback', (t) => {
  const allowed = (base: string | null, url: string) => t.notThrows(() => checkTokenDestination(url, endpoints(base), 'test'), `${base}: ${url}`);
  const refused = (base: string | null, url: string) => t.throws(() => checkTokenDestination(url, endpoints(base), 'test'), { message: /refusing to send the GitHub token/ }, `${base}: ${url}`);
  allowed(null, 'https://api.github.com/repos/o/r/releases/assets/1');
  allowed(null, 'https://uploads.github.com/repos/o/r/releases/1/assets?name=x');
  for (const url of ['https://uploads.github.com.evil.example/x', 'https://evil.example/repos/o/r/releases/1/assets', 'http://uploads.github.com/x', 'https://github.com/x', 'https://api.github.com:8443/x']) refused(null, url);
  allowed('https://ghe.example.com', 'https://ghe.example.com/api/uploads/repos/o/r/releases/1/assets?name=x');
  allowed('https://ghe.example.com', 'https://ghe.example.com/api/v3/repos/o/r/releases/assets/1');
  for (const url of ['https://uploads.ghe.example.com/x', 'http://ghe.example.com/api/uploads/x', 'https://uploads.github.com/x', 'https://127.0.0.1/x']) refused('https://ghe.example.com', url);
  allowed('http://127.0.0.1:8080', 'http://127.0.0.1:9090/api/uploads/x');
  refused('http://127.0.0.1:8080', 'http://127.0.0.2:9090/api/uploads/x');
  t.throws(() => checkTokenDestination('http://ghe.example.com/x', { api: 'http://ghe.example.com/api/v3', uploads: 'http://ghe.example.com/api/uploads' }, 'test'), { message: /never in clear text off loopback/ });
});

const notFound = { type: 'status' as const, status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };

test('401, 403, 404 and 422 on create: one line naming the repository, the release and what to check', async (t) => {
  const cases: { status: number; fault?: Parameters<import('./helpers/github/emulator.ts').GitHubEmulator['fault']>[0]; token?: string; expect: RegExp }[] = [
    { status: 401, token: 'ghp_notTheRightOne0000000000000000', expect: /GitHub answered 401 \(Bad credentials\) to GET \/repos\/acme\/corpus\/releases; the token in GITHUB_TOKEN\/GH_TOKEN is not accepted/ },
    {
      status: 403,
      fault: { server: 'api', method: 'POST', path: /\/releases$/, effect: { type: 'status', status: 403, body: { message: 'Resource not accessible by personal access token', documentation_url: DOCS } } },
      expect: /GitHub answered 403 \(Resource not accessible by personal access token\) to POST \/repos\/acme\/corpus\/releases; the token may not do this: it needs "Contents: read and write" on acme\/corpus/,
    },
    {
      status: 403,
      fault: { server: 'uploads', times: Infinity, effect: { type: 'status', status: 403, body: { message: 'Resource not accessible by integration', documentation_url: DOCS } } },
      expect: /GitHub answered 403 \(Resource not accessible by integration\); the token may not do this/,
    },
    { status: 404, fault: { server: 'api', method: 'GET', path: /\/releases\?/, effect: notFound }, expect: /GitHub answered 404 \(Not Found\) to GET \/repos\/acme\/corpus\/releases; check publish\.github\.repo \(acme\/corpus: .*\) and, for GitHub Enterprise, publish\.github\.base_url \(API at http:\/\/127\.0\.0\.1:\d+\/api\/v3\)/ },
    {
      status: 422,
      fault: { server: 'api', method: 'POST', path: /\/releases$/, effect: { type: 'status', status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'invalid', field: 'tag_name' }], documentation_url: DOCS } } },
      expect: /GitHub answered 422 \(Validation Failed.*\) to POST \/repos\/acme\/corpus\/releases; check publish\.github\.tag \(attachedfiles: a valid tag name\)/,
    },
  ];
  for (const c of cases) {
    const project = await publishProject(t);
    if (c.fault) project.emulator.fault(c.fault);
    const run = await project.run([], { GITHUB_TOKEN: c.token ?? TOKEN });
    const message = run.error?.message ?? '';
    t.regex(message, new RegExp(`^github ${REPO} release ${TAG}: `), `${c.status}`);
    t.regex(message, c.expect, `${c.status}`);
    t.false(message.includes('\n'), `${c.status}: one line`);
    t.false(run.all.includes(c.token ?? TOKEN));
  }
});

test('through the gulp CLI: the 404 is one line without a stack; --verbose adds the stack', async (t) => {
  const { cwd, emulator } = await cliProject(t);
  emulator.fault({ server: 'api', method: 'GET', path: /\/releases\?/, times: 2, effect: notFound });
  const plain = await runGulp(cwd, ['publish', '--pillar', 'publish.yml'], { GITHUB_TOKEN: TOKEN });
  t.not(plain.code, 0);
  t.regex(plain.stderr, /github acme\/corpus release attachedfiles: GitHub answered 404 \(Not Found\) to GET \/repos\/acme\/corpus\/releases; check publish\.github\.repo/);
  t.notRegex(plain.all, /^\s+at /m, 'no stack');
  t.notRegex(plain.all, /HttpError/);
  const verbose = await runGulp(cwd, ['publish', '--pillar', 'publish.yml', '--verbose'], { GITHUB_TOKEN: TOKEN });
  t.not(verbose.code, 0);
  t.regex(verbose.all, /^\s+at /m, 'the stack with --verbose');
  t.false(plain.all.includes(TOKEN) || verbose.all.includes(TOKEN));
});

test('an asset changed on the server between its upload and the final check: caught, and the release stays a draft', async (t) => {
  const project = await publishProject(t);
  // The first listing of the new release's assets is the final check's.
  project.emulator.fault({ server: 'api', method: 'GET', path: /\/releases\/\d+\/assets\?/, effect: { type: 'tamper', asset: 'registry-v2.8.3.xz' } });
  const run = await project.run();
  t.regex(run.error?.message ?? '', new RegExp(`release ${TAG} failed verification after publishing:\\n {2}registry-v2\\.8\\.3\\.xz: digest sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}`));
  t.is(project.emulator.releases(REPO)[0]!.draft, true, 'not published');

  const again = await project.run();
  t.is(again.error, undefined, again.all);
  t.regex(again.out, /^registry-v2\.8\.3\.xz .* replace /m);
  t.deepEqual(project.emulator.content(REPO, TAG, 'registry-v2.8.3.xz'), project.release.contents.get('registry-v2.8.3.xz'));
  t.deepEqual(assetNames(project.emulator), [...project.release.files].sort());
  t.is(project.emulator.releases(REPO)[0]!.draft, false);
});
