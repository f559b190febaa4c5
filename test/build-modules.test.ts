// Go modules the way docker_auth is laid out: the module in a sub-directory
// (build.dir), a go directive newer than Debian bookworm's Go, a dependency
// that only a GOPROXY serves, here over HTTPS behind a CA that only the
// caller's SSL_CERT_FILE names (as on a machine behind a TLS-inspecting proxy).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { buildProject, type Run } from './helpers/build-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

test.before(() => requireCommands('docker', 'git', 'debootstrap', 'openssl'));

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
function certificates(dir: string): { ca: string; key: string; cert: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=corpus-kit test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem');
  return { ca: join(dir, 'ca.pem'), key: join(dir, 'server.key'), cert: join(dir, 'server.pem') };
}

/** An HTTPS GOPROXY on loopback serving the files of a file:// proxy directory; records the paths asked for. */
async function httpsProxy(t: Parameters<typeof tempDir>[0], root: string, tls: { key: string; cert: string }) {
  const requested: string[] = [];
  const server = createServer({ key: execFileSync('cat', [tls.key]), cert: execFileSync('cat', [tls.cert]) }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    requested.push(path);
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200);
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => new Promise<void>((done) => server.close(() => done())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, requested };
}

function ok(t: { is(a: unknown, b: unknown, m?: string): void }, r: Run): void {
  t.is(r.error?.message, undefined, r.err);
}

test('a sub-module with go 1.23 downloads through an HTTPS proxy trusted via SSL_CERT_FILE, with the caller\'s GOFLAGS, then builds offline with main.Version/main.BuildID', async (t) => {
  const tls = certificates(await tempDir(t));
  const project = await buildProject(t, { names: ['submod'] });
  const proxy = await httpsProxy(t, project.proxy, tls);
  // -modcacherw: the module cache's directories stay writable (Go's default is read-only), a visible effect of GOFLAGS.
  Object.assign(project.env, { GOPROXY: proxy.url, SSL_CERT_FILE: tls.ca, GOFLAGS: '-modcacherw' });
  const r = await project.run('release');
  ok(t, r);
  t.true(proxy.requested.includes('/example.com/greet/@v/v1.0.0.zip'), proxy.requested.join(' '));
  const commit = project.upstream.submod!.head();
  t.is(execFileSync(join(project.cwd, 'dist/bin/submod'), { encoding: 'utf8' }), `hello from submod v1.0.0 build ${commit}\n`);
  const volume = r.err.match(/modules in volume (\S+)/)?.[1];
  t.truthy(volume, r.err);
  const builder = r.err.match(/\(module layout\) in (\S+) \.\.\./)?.[1] ?? '';
  const mode = execFileSync('docker', ['run', '--rm', '--network', 'none', '--mount', `type=volume,source=${volume},target=/m`, builder, 'stat', '-c', '%A', '/m/example.com/greet@v1.0.0'], { encoding: 'utf8' }).trim();
  t.is(mode, 'drwxr-xr-x');
});

test('a go directive newer than the builder\'s Go fails with both versions, the builder and the key to change', async (t) => {
  const project = await buildProject(t, { names: ['submod'] });
  project.binaries.submod!.build.builder = { recipe: 'golang-bookworm' };
  await project.save();
  const r = await project.run('compile');
  t.regex(r.error?.message ?? '', /^\[submod\] go\.mod asks for go 1\.23\.0, but the builder corpus-kit-recipe\/golang-bookworm:[0-9a-f]+ has go 1\.19(\.\d+)?: set binaries\.submod\.build\.builder to one with Go >= 1\.23\.0/, r.err);
  t.false(r.err.includes('go build v1.0.0'), 'compiled although the download had failed');
});
