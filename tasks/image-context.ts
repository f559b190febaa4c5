// The `docker build` context of the registry image, assembled in a fresh
// directory: the Dockerfile (container/Dockerfile.njk), the entrypoint, the
// image's pillar layer, the kit with its production dependencies, and each
// binary of the release, decompressed only after its archive matched
// manifest.json's sha256 (and checked again after decompression by xz's own
// integrity check). Nothing reaches the engine before every binary passed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { PARTIAL_SUFFIX } from '../lib/atomic.ts';
import { dirname, join, relative, sep } from 'node:path';
import nunjucks from 'nunjucks';
import { stringify } from 'yaml';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { PACKAGE_ROOT } from '../pillar/package-root.ts';
import { hashFile } from '../lib/hash.ts';
import { MANIFEST_FILE, readManifest, type ManifestBinary } from '../lib/manifest.ts';

/** The kit's own folder (where this package is installed). */
export const KIT_ROOT = PACKAGE_ROOT;
const CONTAINER_DIR = join(KIT_ROOT, 'container');
/**
 * What the image holds of the kit: enough to run its gulpfile (the launcher).
 * Not .gulp.cjs: the entrypoint gives node --import=tsx itself, and with
 * .gulp.cjs gulp would re-spawn node, one more process between tini and the launcher.
 */
const KIT_FILES = ['package.json', 'tsconfig.json', 'index.ts', 'gulpfile.ts', 'lib', 'tasks', 'plugins', 'pillar', 'templates', 'container'];
/** Where the image keeps the kit. */
export const IMAGE_KIT_DIR = '/opt/corpus-kit';
/** Context files keep this mtime, so the layers they make do not change with the day of the build. */
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

/** A binary installed in the image, as its labels describe it. */
export interface ImageBinary extends Pick<ManifestBinary, 'version' | 'commit' | 'sha256' | 'file'> {
  name: string;
  /** Its path in the image. */
  path: string;
}

/** A JSON string, which is also a Dockerfile string (exec form, paths) once `$` cannot start a variable. */
export function dockerJson(value: string): string {
  if (/[\0\n\r]/.test(value)) throw new UserError(`Dockerfile value ${JSON.stringify(value)}: control characters cannot be written into a Dockerfile`);
  return JSON.stringify(value).replaceAll('$', '\\$');
}

/** What container/Dockerfile.njk gets (Dockerfile.runtime.njk: header, base and kitDir). */
interface DockerfileView {
  header: string;
  base: string;
  kitDir: string;
  user?: string;
  group?: string;
  gid?: number;
  dataRoot?: string;
  ports?: number[];
  binaries?: ImageBinary[];
}

function renderDockerfile(template: string, view: DockerfileView): string {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(CONTAINER_DIR), { autoescape: false, throwOnUndefined: true, trimBlocks: true, lstripBlocks: true });
  env.addFilter('dockerJson', dockerJson);
  return env.render(template, view);
}

/** The binaries the pillar enables, each from the release's manifest (a binary the release lacks stops the build). */
async function releaseBinaries(ctx: Context): Promise<{ name: string; entry: ManifestBinary }[]> {
  const dir = ctx.paths.release;
  const manifest = await readManifest(dir);
  if (!manifest) throw new UserError(`image:build: no ${MANIFEST_FILE} in ${dir}; build the release first (gulp package)`);
  const enabled = Object.entries(ctx.pillar.binaries).filter(([, b]) => b.enabled !== false).map(([name]) => name);
  const missing = enabled.filter((name) => !manifest.binaries[name]);
  if (missing.length > 0) throw new UserError(`image:build: ${join(dir, MANIFEST_FILE)} has no ${missing.join(', ')} (enabled in the pillar: binaries.${missing[0]}); run gulp package, or set binaries.${missing[0]}.enabled: false`);
  return enabled.map((name) => ({ name, entry: manifest.binaries[name]! }));
}

/** Checks a file against the manifest's sha256; a mismatch (or a missing file) names the release's file. */
async function checkArchive(file: string, archive: string, entry: ManifestBinary): Promise<void> {
  const { sha256 } = await hashFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`image:build: ${archive}: ${error.code === 'ENOENT' ? 'missing' : error.message} (listed in ${MANIFEST_FILE})`);
  });
  if (sha256 !== entry.sha256) {
    throw new UserError(`image:build: ${archive}: sha256 ${sha256} does not match ${MANIFEST_FILE} (${entry.sha256}); the release was changed after package wrote it. No image was built`);
  }
}

/**
 * Puts the binary of a release archive at `dest`, after checking the archive
 * against the manifest. The decompressed binary is kept in the cache under the
 * archive's sha256: made once from a checked copy of the archive (so what is
 * checked is what is decompressed) by xz, whose own integrity check covers the
 * decompressed bytes; later builds check the release's archive and reuse it.
 */
async function installVerified(ctx: Context, archive: string, entry: ManifestBinary, dest: string): Promise<void> {
  await checkArchive(archive, archive, entry);
  const cacheDir = join(ctx.paths.cache, 'image', 'binaries');
  const cached = join(cacheDir, entry.sha256);
  if (!existsSync(cached)) {
    await mkdir(cacheDir, { recursive: true });
    const partial = `${cached}${PARTIAL_SUFFIX}`;
    try {
      await copyFile(archive, `${partial}.xz`);
      await checkArchive(`${partial}.xz`, archive, entry);
      const out = await ctx.sh({ nothrow: true })`xz --decompress --force -- ${`${partial}.xz`}`;
      if (out.exitCode !== 0) throw new UserError(`image:build: ${archive}: xz cannot decompress it (${out.stderr.trim()})`);
      await rename(partial, cached);
    } finally {
      await rm(`${partial}.xz`, { force: true });
      await rm(partial, { force: true });
    }
  }
  await copyFile(cached, dest);
  await chmod(dest, 0o755);
}

/**
 * The kit's production dependency tree, as npm resolves it (paths under its
 * node_modules): from the kit's own folder when it has its dependencies (a
 * checkout), else from the project that installed it (hoisted).
 */
const modulesProject = (ctx: Context) => (existsSync(join(KIT_ROOT, 'node_modules')) ? KIT_ROOT : ctx.cwd);

/** What the launcher runs on besides the kit's dependencies: the gulp CLI (a peer) and tsx (the .ts sources load through it). */
const RUNNERS = ['gulp', 'tsx'];

/**
 * The folder of `name` and of every package it depends on (optional ones when
 * installed), as node resolves them from `from`: its own node_modules first,
 * then each one above it up to `root`.
 */
async function dependencyClosure(root: string, names: string[]): Promise<string[]> {
  const found = new Set<string>();
  const queue = names.map((name) => ({ name, from: root }));
  while (queue.length > 0) {
    const { name, from } = queue.shift()!;
    let dir = from;
    let pkg: string | undefined;
    for (;;) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        pkg = candidate;
        break;
      }
      if (dir === root || !dir.startsWith(root)) break;
      dir = dirname(dir);
    }
    if (!pkg || found.has(pkg)) continue;
    found.add(pkg);
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) queue.push({ name: dep, from: pkg });
  }
  return [...found];
}

async function productionModules(ctx: Context, project: string): Promise<string[]> {
  const out = await ctx.sh({ nothrow: true, cwd: project })`npm ls --omit=dev --all --parseable`;
  const root = join(project, 'node_modules') + sep;
  const runners = await dependencyClosure(project, RUNNERS);
  const missing = RUNNERS.filter((name) => !runners.includes(join(project, 'node_modules', name)));
  if (missing.length > 0) throw new UserError(`image:build: ${missing.join(' and ')} not installed under ${root} (the image's launcher runs on them); run npm ci first`);
  const dirs = [...new Set([...out.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(root)), ...runners])];
  // A package's own node_modules comes with its folder.
  return dirs.filter((dir) => !dirs.some((other) => other !== dir && dir.startsWith(other + sep)));
}

/**
 * Copies `names` (relative to `from`, directories whole) to the same relative
 * paths under `to`, in one cp: by hard link where the file system allows it
 * (the context is read, never written), else a plain copy.
 */
async function copyTree(ctx: Context, from: string, names: string[], to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const linked = await ctx.sh({ nothrow: true, cwd: from })`cp -al --parents -t ${to} -- ${names}`;
  if (linked.exitCode === 0) return;
  // --remove-destination: a file linked before the failure is replaced, never written through.
  await ctx.sh({ cwd: from })`cp -a --remove-destination --parents -t ${to} -- ${names}`;
}

/** The image's pillar layer: what the image was built with and for (no secrets: none of these keys hold one). */
function imagePillar(ctx: Context, binaries: ImageBinary[]): string {
  const p = ctx.pillar;
  const installed = new Set(binaries.map((b) => b.name));
  return stringify({
    project: p.project, user: p.user, group: p.group, data_root: p.data_root, editor: p.editor,
    binaries: Object.fromEntries(Object.keys(p.binaries).map((name) => [name, installed.has(name) ? { path: binaries.find((b) => b.name === name)!.path } : { enabled: false }])),
  });
}

export interface BuildContext {
  dir: string;
  binaries: ImageBinary[];
}

/** Renders one of container/'s Dockerfile templates into a context directory. */
async function writeDockerfile(dir: string, template: string, view: Omit<DockerfileView, 'header'>): Promise<void> {
  await writeFile(join(dir, 'Dockerfile'), renderDockerfile(template, { header: `rendered by corpus-kit from container/${template} (gulp image:build)`, ...view }));
}

/**
 * The context of the runtime image: the base with the kit's production
 * modules, built once per lock file (its tag is a hash of the base and the
 * lock), so an image build sends and checks only the kit and the binaries.
 */
export async function assembleRuntimeContext(ctx: Context, dir: string, base: string): Promise<void> {
  const modules = join(modulesProject(ctx), 'node_modules');
  await copyTree(ctx, modules, (await productionModules(ctx, dirname(modules))).map((m) => relative(modules, m)), join(dir, 'node_modules'));
  await writeDockerfile(dir, 'Dockerfile.runtime.njk', { base, kitDir: IMAGE_KIT_DIR });
}

/** Bumped when what goes into the runtime image is chosen differently, so an old one is not reused. */
const RUNTIME_FORMAT = 2;

/** corpus-kit-runtime:<hash of the base image id, the kit's package.json and the lock file that resolved its modules>. */
export async function runtimeTag(ctx: Context, baseId: string): Promise<string> {
  const project = modulesProject(ctx);
  const hash = createHash('sha256').update(`${RUNTIME_FORMAT} ${baseId} ${RUNNERS.join(',')}`);
  for (const file of [join(KIT_ROOT, 'package.json'), join(project, 'package-lock.json'), join(CONTAINER_DIR, 'Dockerfile.runtime.njk')]) {
    hash.update(file).update(await readFile(file).catch(() => Buffer.from('(none)')));
  }
  return `corpus-kit-runtime:${hash.digest('hex').slice(0, 16)}`;
}

/** Fills `dir` (empty) with the image's build context, on the runtime image `runtime`. */
export async function assembleContext(ctx: Context, dir: string, runtime: string): Promise<BuildContext> {
  const binaries: ImageBinary[] = [];
  await mkdir(join(dir, 'bin'), { recursive: true });
  for (const { name, entry } of await releaseBinaries(ctx)) {
    const dest = join(dir, 'bin', name);
    await installVerified(ctx, join(ctx.paths.release, entry.file), entry, dest);
    await utimes(dest, FIXED_TIME, FIXED_TIME);
    binaries.push({ name, path: `/usr/local/bin/${name}`, version: entry.version, commit: entry.commit, sha256: entry.sha256, file: entry.file });
  }
  await copyTree(ctx, KIT_ROOT, KIT_FILES, join(dir, 'kit'));
  await copyTree(ctx, CONTAINER_DIR, ['entrypoint', 'entrypoint-dev'], dir);
  await writeFile(join(dir, 'image.yml'), imagePillar(ctx, binaries));
  const p = ctx.pillar;
  await writeDockerfile(dir, 'Dockerfile.njk', {
    base: runtime, user: p.user, group: p.group, gid: p.editor.gid, dataRoot: p.data_root, kitDir: IMAGE_KIT_DIR,
    ports: [...new Set([p.ports.http, p.ports.https])], binaries,
  });
  return { dir, binaries };
}

let version: Promise<string> | undefined;

/** This package's version (the image's version tag), read once. */
export function kitVersion(): Promise<string> {
  version ??= readFile(join(KIT_ROOT, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { version: string }).version);
  return version;
}
