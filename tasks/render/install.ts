// Staging and the atomic swap. {data_root}/etc is a symlink to a generation
// directory (.etc.gen-<hash>) beside it; a render writes a new generation, and
// one rename() of a fresh symlink over `etc` switches to it. A kill at any
// moment leaves `etc` pointing at a whole generation, old or new. Files that did
// not change are hard links to the old generation's, so their mtimes are kept.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { StackFile } from './files.ts';

const GENERATION = /^\.etc\.gen-[0-9a-f]{16}$/;
const STAGING = /^\.etc\.staging-(\d+)-[0-9a-f]{8}$/;
const LINK = /^\.etc\.link-(\d+)-[0-9a-f]{8}$/;

/** Mode of an installed file: secrets 0640 at most, readable by the service group only. */
export function fileMode(file: StackFile): number {
  const mode = file.mode ?? 0o644;
  return file.secret ? mode & 0o640 : mode;
}

export interface Installed {
  /** The generation `etc` points at, or undefined on a first render. */
  dir?: string;
}

/** The generation directory {data_root}/etc points at now. */
export async function current(data: string): Promise<Installed> {
  const etc = join(data, 'etc');
  try {
    const target = await readlink(etc);
    return { dir: join(data, target) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    if (code === 'EINVAL') throw new Error(`${etc} is a directory that render did not create; move it away (render replaces it with a link to the rendered configuration)`);
    throw error;
  }
}

/** One hash over every path, mode and content: the generation's name. */
export function treeHash(files: readonly StackFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${fileMode(file).toString(8)}\0${file.content.length}\0`).update(file.content);
  return hash.digest('hex').slice(0, 16);
}

export interface Change {
  path: string;
  kind: 'added' | 'changed' | 'removed';
  secret: boolean;
}

async function readIfExists(file: string): Promise<{ content: string; mode: number } | undefined> {
  try {
    const [content, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { content, mode: info.mode & 0o7777 };
  } catch {
    return undefined;
  }
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : Promise.resolve([relative(base, join(dir, e.name))]))));
  return nested.flat().sort();
}

/** What differs between the installed generation and `files`. */
export async function changes(installed: Installed, files: readonly StackFile[]): Promise<Change[]> {
  const list: Change[] = [];
  const wanted = new Set(files.map((f) => f.path));
  for (const file of files) {
    const old = installed.dir ? await readIfExists(join(installed.dir, file.path)) : undefined;
    if (!old) list.push({ path: file.path, kind: 'added', secret: Boolean(file.secret) });
    else if (old.content !== file.content || old.mode !== fileMode(file)) list.push({ path: file.path, kind: 'changed', secret: Boolean(file.secret) });
  }
  if (installed.dir) for (const path of await listFiles(installed.dir)) if (!wanted.has(path)) list.push({ path, kind: 'removed', secret: false });
  return list.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Writes `files` into a new staging directory beside etc: unchanged files are
 * hard links to the installed ones (mtime kept), others are written with their
 * mode, owned by root and the service group. Directories are 0750.
 */
export async function stage(data: string, files: readonly StackFile[], installed: Installed, unchanged: ReadonlySet<string>, gid: number): Promise<string> {
  const dir = join(data, `.etc.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: 0o750 });
  const dirs = new Set<string>([dir]);
  for (const file of files) {
    const target = join(dir, file.path);
    for (let d = dirname(target); !dirs.has(d); d = dirname(d)) dirs.add(d);
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    if (installed.dir && unchanged.has(file.path)) {
      await link(join(installed.dir, file.path), target);
      continue;
    }
    await writeFile(target, file.content, { mode: fileMode(file) });
    await chown(target, 0, gid);
    await chmod(target, fileMode(file));
  }
  for (const d of dirs) {
    await chown(d, 0, gid);
    await chmod(d, 0o750);
  }
  return dir;
}

/** Makes the staged directory the installed generation: rename it, then swap the `etc` link in one rename(). */
export async function swap(data: string, staged: string, hash: string, installed: Installed): Promise<string> {
  const generation = join(data, `.etc.gen-${hash}`);
  // A generation of this name that is not installed is a leftover of an earlier run.
  if (existsSync(generation) && generation !== installed.dir) await rm(generation, { recursive: true, force: true });
  await rename(staged, generation);
  const temporaryLink = join(data, `.etc.link-${process.pid}-${randomBytes(4).toString('hex')}`);
  await symlink(relative(data, generation), temporaryLink);
  await rename(temporaryLink, join(data, 'etc'));
  return generation;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what earlier renders left beside etc (only names render creates): old generations, dead runs' staging and links. */
export async function sweep(data: string, keep: string | undefined): Promise<void> {
  for (const name of await readdir(data).catch(() => [] as string[])) {
    const path = join(data, name);
    const pid = Number((STAGING.exec(name) ?? LINK.exec(name))?.[1] ?? 0);
    const stale = GENERATION.test(name) ? path !== keep : pid > 0 && pid !== process.pid && !alive(pid);
    if (stale && (await lstat(path).catch(() => undefined))) await rm(path, { recursive: true, force: true });
  }
}
