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
import { bindMount, userArgs } from './container.ts';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';

/** Bumped when the build command changes, so outputs of the old command are not reused. */
const BUILD_FORMAT = 1;

export type Layout = 'gopath' | 'vendor' | 'module';

export interface GoBuild {
  binary: string;
  layout: Layout;
  /** Where the source tree is mounted, read-only. */
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
export const DOWNLOAD_ENV = [
  'GOPROXY', 'GOSUMDB', 'GONOSUMDB', 'GONOSUMCHECK', 'GOPRIVATE', 'GONOPROXY', 'GOINSECURE', 'GOVCS',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
] as const;

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
  const args = ['-trimpath', `-ldflags=${ldflags}`, ...(build.tags?.length ? [`-tags=${build.tags.join(',')}`] : []), '-o', `/out/${binary.name}`, build.package];
  const env: Record<string, string> = {
    CGO_ENABLED: '0',
    HOME: '/tmp',
    GOCACHE: '/cache/go-build',
    GOTOOLCHAIN: 'local',
    GOFLAGS: layout === 'gopath' ? '' : layout === 'vendor' ? '-mod=vendor' : '-mod=mod',
    GO111MODULE: layout === 'gopath' ? 'off' : 'on',
    GOPROXY: 'off',
    ...(layout === 'gopath' ? { GOPATH: '/go' } : { GOPATH: '/tmp/go', GOMODCACHE: '/cache/gomod' }),
  };
  const key = createHash('sha256')
    .update(JSON.stringify({ format: BUILD_FORMAT, commit: source.commit, builderId, layout, srcMount, dir, args, env, goSum: goSum ?? null }))
    .digest('hex');
  return { binary: binary.name, layout, srcMount, workdir: posix.join(srcMount, dir), args, env, goSum, key };
}

function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
}

/** The offline compile: no network, source read-only, only the output dir (and Go's own cache) writable. */
export function compileCommand(ctx: Context, plan: GoBuild, image: string, mounts: { tree: string; out: string; gocache: string; modcache?: string }): string[] {
  return [
    ctx.pillar.engine, 'run', '--rm', '--network', 'none', ...userArgs(ctx),
    ...bindMount(mounts.tree, plan.srcMount, true),
    ...bindMount(mounts.out, '/out'),
    ...bindMount(mounts.gocache, '/cache/go-build'),
    ...(mounts.modcache ? bindMount(mounts.modcache, '/cache/gomod', true) : []),
    '--workdir', plan.workdir, ...envArgs(plan.env),
    image, 'go', 'build', ...plan.args,
  ];
}

/**
 * `go mod download` into a module cache, with the network. The proxy settings are
 * passed by name (`--env NAME`), so a credential in one never shows on a command
 * line; file:// proxies are mounted read-only at the same path.
 */
export function downloadCommand(ctx: Context, plan: GoBuild, image: string, mounts: { tree: string; modcache: string }): string[] {
  const passed = DOWNLOAD_ENV.filter((name) => ctx.env[name]);
  const fileProxies = (ctx.env.GOPROXY ?? '').split(/[,|]/).filter((p) => p.startsWith('file://')).map((p) => decodeURIComponent(new URL(p).pathname));
  return [
    ctx.pillar.engine, 'run', '--rm', '--network', 'host', ...userArgs(ctx),
    ...bindMount(mounts.tree, plan.srcMount, true),
    ...bindMount(mounts.modcache, '/cache/gomod'),
    ...fileProxies.flatMap((dir) => bindMount(dir, dir, true)),
    '--workdir', plan.workdir,
    ...envArgs({ HOME: '/tmp', GOPATH: '/tmp/go', GOMODCACHE: '/cache/gomod', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on' }),
    ...passed.flatMap((name) => ['--env', name]),
    image, 'go', 'mod', 'download',
  ];
}
