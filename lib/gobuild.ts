// How one Go binary is built in its builder container: the layout (legacy
// GOPATH, vendored module, or module with a separate download step), the
// content-addressed key of the output, and the engine command lines.
// Reproducibility: CGO off, -trimpath, an empty build id, and no host path or
// time in the inputs, so the same key gives the same bytes on any machine.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SourceArtifact } from './artifacts.ts';
import { expand, type SelectedBinary } from './binaries.ts';
import { envArgs, userArgs, volumeMount } from './container.ts';
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
  /** Content address of the output: commit, builder image, every build setting. */
  key: string;
}

/** Settings read from the environment for the dependency download only (never for the offline compile). */
const DOWNLOAD_ENV = [
  'GOPROXY', 'GOSUMDB', 'GONOSUMDB', 'GONOSUMCHECK', 'GOPRIVATE', 'GONOPROXY', 'GOINSECURE', 'GOVCS',
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
  if (build.gopath) layout = 'gopath';
  else if (!existsSync(join(hostDir, 'go.mod'))) {
    throw new UserError(`${where}: no go.mod in "${dir}" of ${binary.name}@${source.ref}; for a project in the legacy GOPATH layout set ${where}.gopath to its import path`);
  } else if (existsSync(join(hostDir, 'vendor', 'modules.txt'))) layout = 'vendor';
  else {
    layout = 'module';
    const sum = await readFile(join(hostDir, 'go.sum')).catch(() => undefined);
    goSum = sum && createHash('sha256').update(sum).digest('hex');
  }
  const values = { version: source.version, commit: source.commit };
  const ldflags = ['-buildid=', ...(build.ldflags ? [expand(build.ldflags, values)] : [])].join(' ');
  const args = [...GO_BUILD_FLAGS, `-ldflags=${ldflags}`, ...(build.tags?.length ? [`-tags=${build.tags.join(',')}`] : []), '-o', posix.join(OUT_DIR, binary.name), build.package];
  const env = goEnv(layout);
  const key = createHash('sha256')
    .update(JSON.stringify({ format: BUILD_FORMAT, commit: source.commit, builderId, layout, srcMount, dir, args, env, goSum: goSum ?? null }))
    .digest('hex');
  return { binary: binary.name, layout, srcMount, workdir: posix.join(srcMount, dir), args, env, goSum, key };
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

/**
 * The file:// entries of GOPROXY: each directory goes into a volume mounted at
 * /corpus-kit/goproxy/<n> for the download, and `goproxy` is GOPROXY with those
 * entries pointing there (no host path reaches the engine).
 */
export function fileProxies(env: NodeJS.ProcessEnv): { dirs: string[]; goproxy: string | undefined } {
  const dirs: string[] = [];
  const goproxy = env.GOPROXY?.replace(/file:\/\/[^,|]+/g, (entry) => {
    dirs.push(decodeURIComponent(new URL(entry).pathname));
    return `file://${proxyMount(dirs.length - 1)}`;
  });
  return { dirs, goproxy };
}

const proxyMount = (n: number) => `/corpus-kit/goproxy/${n}`;

/**
 * `create` arguments of `go mod download` into the module cache volume, with the
 * network. The proxy settings are passed by name (`--env NAME`, the value from
 * the engine CLI's environment), so a credential in one never shows on a command line.
 */
export function downloadArgs(ctx: Context, plan: GoBuild, image: string, volumes: { tree: string; modcache: string; proxies: string[] }): string[] {
  const passed = DOWNLOAD_ENV.filter((name) => ctx.env[name]);
  return [
    '--network', 'host', ...userArgs(ctx),
    ...volumeMount(volumes.tree, plan.srcMount, true),
    ...volumeMount(volumes.modcache, GOMODCACHE_DIR),
    ...volumes.proxies.flatMap((volume, n) => volumeMount(volume, proxyMount(n), true)),
    '--workdir', plan.workdir,
    ...envArgs({ HOME: '/tmp', GOPATH: '/tmp/go', GOMODCACHE: GOMODCACHE_DIR, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on' }),
    ...passed.flatMap((name) => ['--env', name]),
    image, 'go', 'mod', 'download',
  ];
}
