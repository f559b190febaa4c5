// How one Go binary is built in its builder container: the layout (legacy
// GOPATH, vendored module, or module with a separate download step), the
// content-addressed key of the output, and the engine command lines.
// Reproducibility: CGO off, -trimpath, an empty build id, and no host path or
// time in the inputs, so the same key gives the same bytes on any machine.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { SourceArtifact } from './artifacts.ts';
import { expand, type SelectedBinary } from './binaries.ts';
import { envArgs, startAttached, userArgs, volumeMount, withContainer } from './container.ts';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';

/** Bumped when the build command changes, so outputs of the old command are not reused. */
const BUILD_FORMAT = 2;

/** Where the compile writes the binary: in the container's own filesystem, copied out after it ends. */
export const OUT_DIR = '/tmp/corpus-kit-out';
/** Where the Go build cache volume is mounted (and where recipe images keep their pre-built standard library). */
export const GOCACHE_DIR = '/cache/go-build';
export const GOMODCACHE_DIR = '/cache/gomod';

export type Layout = 'gopath' | 'vendor' | 'module';

export interface GoBuild {
  binary: string;
  layout: Layout;
  /** Where the source tree volume is mounted, read-only. */
  srcMount: string;
  workdir: string;
  /** The `go build` arguments after `go build`. */
  args: string[];
  env: Record<string, string>;
  /** sha256 of go.sum (module layout with dependencies): names the module cache. */
  goSum?: string;
  /** go.mod's `go` directive (module layouts): the oldest Go that may build it. */
  goDirective?: string;
  /** Content address of the output: commit, builder image, every build setting. */
  key: string;
}

/** Settings read from the environment for the dependency download only (never for the offline compile). */
const DOWNLOAD_ENV = [
  'GOPROXY', 'GOFLAGS', 'SSL_CERT_FILE', 'GOSUMDB', 'GONOSUMDB', 'GONOSUMCHECK', 'GOPRIVATE', 'GONOPROXY', 'GOINSECURE', 'GOVCS',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
] as const;

/** The Go build cache volume of a builder image (Go's cache is only valid for one toolchain). */
export const goCacheVolume = (prefix: string, imageId: string) => `${prefix}-gocache-${imageId.replace(/^sha256:/, '').slice(0, 12)}`;
/** The module cache volume of a go.sum. */
export const modCacheVolume = (prefix: string, goSum: string | undefined) => `${prefix}-gomod-${(goSum ?? 'none').slice(0, 16)}`;

/** The compile flags every build shares (ldflags, tags and output come per binary). */
export const GO_BUILD_FLAGS = ['-trimpath'] as const;

/** The compile's environment for a layout: offline, CGO off, the cache volumes' paths. */
export function goEnv(layout: Layout): Record<string, string> {
  return {
    CGO_ENABLED: '0',
    HOME: '/tmp',
    GOCACHE: GOCACHE_DIR,
    GOTOOLCHAIN: 'local',
    GOFLAGS: layout === 'gopath' ? '' : layout === 'vendor' ? '-mod=vendor' : '-mod=mod',
    GO111MODULE: layout === 'gopath' ? 'off' : 'on',
    GOPROXY: 'off',
    ...(layout === 'gopath' ? { GOPATH: '/go' } : { GOPATH: '/tmp/go', GOMODCACHE: GOMODCACHE_DIR }),
  };
}

/**
 * How a recipe image pre-fills its Go build cache (at GOCACHE_DIR, where the
 * cache volume is mounted, so a new volume starts with it): the standard
 * library compiled with the kit's own flags and environment, in GOPATH mode and
 * in module mode. With -trimpath Go cannot use Debian's precompiled std, so
 * without this every new cache volume would compile std first. GOFLAGS is left
 * out: -mod only steers module resolution (no part of a std package's cache
 * key), and -mod=vendor is refused outside a module.
 */
export const STD_WARM_UP: { env: Record<string, string>; args: string[] }[] = (['gopath', 'module'] as const).map((layout) => ({
  env: { ...goEnv(layout), GOFLAGS: '' },
  args: ['build', ...GO_BUILD_FLAGS, 'std'],
}));

export async function planBuild(binary: SelectedBinary, source: SourceArtifact, builderId: string): Promise<GoBuild> {
  const build = binary.config.build;
  const where = `binaries.${binary.name}.build`;
  const srcMount = build.gopath ? posix.join('/go/src', build.gopath) : '/src';
  const dir = build.dir ?? '.';
  const hostDir = join(source.dir, dir);
  if (!existsSync(hostDir)) throw new UserError(`${where}.dir: "${dir}" does not exist in ${binary.name}@${source.ref}`);
  let layout: Layout;
  let goSum: string | undefined;
  let goDirective: string | undefined;
  if (build.gopath) layout = 'gopath';
  else if (!existsSync(join(hostDir, 'go.mod'))) {
    throw new UserError(`${where}: no go.mod in "${dir}" of ${binary.name}@${source.ref}; for a project in the legacy GOPATH layout set ${where}.gopath to its import path`);
  } else {
    goDirective = (await readFile(join(hostDir, 'go.mod'), 'utf8')).match(/^go\s+(\d+(?:\.\d+)*)\s*$/m)?.[1];
    layout = existsSync(join(hostDir, 'vendor', 'modules.txt')) ? 'vendor' : 'module';
  }
  if (layout === 'module') {
    const sum = await readFile(join(hostDir, 'go.sum')).catch(() => undefined);
    goSum = sum && createHash('sha256').update(sum).digest('hex');
  }
  const values = { version: source.version, commit: source.commit };
  const ldflags = ['-buildid=', ...(build.ldflags ? [expand(build.ldflags, values)] : [])].join(' ');
  // -v: the packages compiled (not those from the cache) are listed, so a run shows what it really built.
  const args = [...GO_BUILD_FLAGS, '-v', `-ldflags=${ldflags}`, ...(build.tags?.length ? [`-tags=${build.tags.join(',')}`] : []), '-o', posix.join(OUT_DIR, binary.name), build.package];
  const env = goEnv(layout);
  const key = createHash('sha256')
    .update(JSON.stringify({ format: BUILD_FORMAT, commit: source.commit, builderId, layout, srcMount, dir, args, env, goSum: goSum ?? null }))
    .digest('hex');
  return { binary: binary.name, layout, srcMount, workdir: posix.join(srcMount, dir), args, env, goSum, goDirective, key };
}

/**
 * What `go build -v` printed: one import path per package compiled (cached ones
 * are not listed); the standard library's have no dot in their first element.
 */
export function compiledPackages(stderr: string): string {
  const paths = stderr.split('\n').filter((line) => /^[\w.~/-]+$/.test(line));
  const std = paths.filter((p) => !p.split('/')[0]!.includes('.') && p !== 'command-line-arguments').length;
  return `${paths.length} packages compiled (${std} of the standard library)`;
}

/** "1.23.0" < "1.24": Go versions compared part by part. */
function olderGo(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) if ((x![i] ?? 0) !== (y![i] ?? 0)) return (x![i] ?? 0) < (y![i] ?? 0);
  return false;
}

/**
 * After a failed download or compile: when go.mod asks for a newer Go than the
 * builder has, that is the cause, said plainly (an old Go reports only that it
 * cannot parse the directive). Asked only on failure, so a build pays nothing.
 */
export async function newerGoNeeded(ctx: Context, plan: GoBuild, image: string): Promise<string | undefined> {
  if (!plan.goDirective) return undefined;
  const out = await withContainer(ctx, ['--network', 'none', image, 'go', 'env', 'GOVERSION'], (id) => startAttached(ctx, id));
  const builderGo = out.stdout.trim().match(/^go(\d+(?:\.\d+)*)/)?.[1];
  if (!builderGo || !olderGo(builderGo, plan.goDirective)) return undefined;
  return `[${plan.binary}] go.mod asks for go ${plan.goDirective}, but the builder ${image} has go ${builderGo}: set binaries.${plan.binary}.build.builder to one with Go >= ${plan.goDirective} (the recipe golang-trixie has Go 1.24)`;
}

/** `create` arguments of the offline compile: no network, source read-only, only Go's build cache writable besides the container's own /tmp. */
export function compileArgs(ctx: Context, plan: GoBuild, image: string, volumes: { tree: string; gocache: string; modcache?: string }): string[] {
  return [
    '--network', 'none', ...userArgs(ctx),
    ...volumeMount(volumes.tree, plan.srcMount, true),
    ...volumeMount(volumes.gocache, GOCACHE_DIR),
    ...(volumes.modcache ? volumeMount(volumes.modcache, GOMODCACHE_DIR, true) : []),
    '--workdir', plan.workdir, ...envArgs(plan.env),
    image, 'go', 'build', ...plan.args,
  ];
}

/** Where the n-th host directory the download needs (a file:// proxy, the CA bundle) is mounted. */
const inputMount = (n: number) => `/corpus-kit/input/${n}`;

/**
 * What the module download takes from this machine, as directories to copy into
 * volumes (no host path reaches the engine) and the values of the variables
 * passed by name: GOPROXY with its file:// entries pointing at their volumes;
 * SSL_CERT_FILE (a TLS-inspecting proxy's CA, which the builder's own bundle
 * lacks) as a copy of that one file; GOFLAGS with -mod=mod after the user's,
 * so it wins. Temporary copies are removed after `body`.
 */
export async function withDownloadInputs<T>(ctx: Context, body: (inputs: { dirs: string[]; env: NodeJS.ProcessEnv }) => Promise<T>): Promise<T> {
  const dirs: string[] = [];
  const mount = (dir: string) => inputMount(dirs.push(dir) - 1);
  const goproxy = ctx.env.GOPROXY?.replace(/file:\/\/[^,|]+/g, (entry) => `file://${mount(decodeURIComponent(new URL(entry).pathname))}`);
  const goflags = [ctx.env.GOFLAGS, '-mod=mod'].filter(Boolean).join(' ');
  const caFile = ctx.env.SSL_CERT_FILE;
  if (!caFile) return body({ dirs, env: { GOPROXY: goproxy, GOFLAGS: goflags } });
  const scratch = await mkdtemp(join(tmpdir(), 'corpus-kit-ca-'));
  try {
    await copyFile(caFile, join(scratch, 'ca.pem')).catch((error: NodeJS.ErrnoException) => {
      throw new UserError(`SSL_CERT_FILE: cannot read ${caFile}, the CA bundle the module download is to trust (${error.code ?? error.message})`);
    });
    return await body({ dirs, env: { GOPROXY: goproxy, GOFLAGS: goflags, SSL_CERT_FILE: posix.join(mount(scratch), 'ca.pem') } });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * `create` arguments of the module download into the module cache volume, with
 * the network: `go list -deps` of the package to build, with the compile's tags
 * and CGO setting, fetches exactly the modules the compile will read (every one
 * checked against go.sum), where `go mod download` would fetch every module
 * go.mod names (twice the bytes for docker_auth 1.14).
 * The settings are passed by name (`--env NAME`, the value from the
 * engine CLI's environment: withDownloadInputs' values over the user's), so a
 * credential in one never shows on a command line.
 */
export function downloadArgs(ctx: Context, plan: GoBuild, image: string, volumes: { tree: string; modcache: string; inputs: string[] }, inputEnv: NodeJS.ProcessEnv): string[] {
  const passed = DOWNLOAD_ENV.filter((name) => ctx.env[name] || inputEnv[name]);
  return [
    '--network', 'host', ...userArgs(ctx),
    ...volumeMount(volumes.tree, plan.srcMount, true),
    ...volumeMount(volumes.modcache, GOMODCACHE_DIR),
    ...volumes.inputs.flatMap((volume, n) => volumeMount(volume, inputMount(n), true)),
    '--workdir', plan.workdir,
    ...envArgs({ HOME: '/tmp', GOPATH: '/tmp/go', GOMODCACHE: GOMODCACHE_DIR, GOTOOLCHAIN: 'local', GO111MODULE: 'on', CGO_ENABLED: plan.env.CGO_ENABLED! }),
    ...passed.flatMap((name) => ['--env', name]),
    image, 'go', 'list', '-deps', '-test=false', ...plan.args.filter((a) => a.startsWith('-tags=')), plan.args.at(-1)!,
  ];
}
