// Staging and the atomic swap, for each tree render installs: {data_root}/etc
// (the configuration) and {data_root}/secrets/processes (private files). Each is
// a symlink to a generation directory (.NAME.gen-<hash>) beside it; a render
// writes a new generation, and one rename() of a fresh symlink over the link
// switches to it. A kill at any moment leaves the link pointing at a whole
// generation, old or new. Files that did not change are hard links to the old
// generation's, so their mtimes are kept.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { alive } from '../../lib/supervisor.ts';
import type { StackFile } from './files.ts';

/** A folder render installs as a whole: `parent/name`, a link to a generation. */
export interface Tree {
  parent: string;
  name: string;
  /** Group of every file and directory: the service group for etc, root for private files. */
  gid: number;
  /** Private files (root's only: 0600 files, 0700 directories). */
  private: boolean;
}

export const etcTree = (data: string, gid: number): Tree => ({ parent: data, name: 'etc', gid, private: false });
export const privateTree = (processSecrets: string): Tree => ({ parent: dirname(processSecrets), name: basename(processSecrets), gid: 0, private: true });

const names = (tree: Tree) => ({
  generation: new RegExp(`^\\.${tree.name}\\.gen-[0-9a-f]{16}(?:-[0-9a-f]{8})?$`),
  staging: new RegExp(`^\\.${tree.name}\\.staging-(\\d+)-[0-9a-f]{8}$`),
  link: new RegExp(`^\\.${tree.name}\\.link-(\\d+)-[0-9a-f]{8}$`),
});

const dirMode = (tree: Tree) => (tree.private ? 0o700 : 0o750);

/** Mode of an installed file: secrets 0640 at most, readable by the service group only; private files 0600. */
export function fileMode(file: StackFile): number {
  if (file.private) return (file.mode ?? 0o600) & 0o600;
  const mode = file.mode ?? 0o644;
  return file.secret ? mode & 0o640 : mode;
}

export interface Installed {
  /** The generation the tree's link points at, or undefined on a first render. */
  dir?: string;
}

/** The generation directory the tree's link points at now. */
export async function current(tree: Tree): Promise<Installed> {
  const path = join(tree.parent, tree.name);
  try {
    const target = await readlink(path);
    return { dir: join(tree.parent, target) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    if (code === 'EINVAL') throw new Error(`${path} is a directory that render did not create; move it away (render replaces it with a link to the rendered files)`);
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
  /** False when only the mode changed: a process reading the file sees nothing new. */
  content: boolean;
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

/** A file that was not world-readable is never shown: an older render may have put a secret where the new one puts none. */
const unreadable = (mode: number) => (mode & 0o004) === 0;

/** What differs between the installed generation and `files`. */
export async function changes(installed: Installed, files: readonly StackFile[]): Promise<Change[]> {
  const list: Change[] = [];
  const wanted = new Set(files.map((f) => f.path));
  for (const file of files) {
    const old = installed.dir ? await readIfExists(join(installed.dir, file.path)) : undefined;
    const secret = Boolean(file.secret || file.private) || (old !== undefined && unreadable(old.mode));
    if (!old) list.push({ path: file.path, kind: 'added', secret, content: true });
    else if (old.content !== file.content || old.mode !== fileMode(file)) list.push({ path: file.path, kind: 'changed', secret, content: old.content !== file.content });
  }
  if (installed.dir) {
    for (const path of await listFiles(installed.dir)) {
      if (!wanted.has(path)) list.push({ path, kind: 'removed', secret: unreadable((await stat(join(installed.dir, path))).mode), content: true });
    }
  }
  return list.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Writes `files` into a new staging directory beside the tree's link: unchanged
 * files are hard links to the installed ones (mtime kept), others are written
 * with their mode, owned by root and the tree's group. Directories are 0750
 * (0700 for private files).
 */
export async function stage(tree: Tree, files: readonly StackFile[], installed: Installed, unchanged: ReadonlySet<string>): Promise<string> {
  const dir = join(tree.parent, `.${tree.name}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: dirMode(tree) });
  const dirs = new Set<string>([dir]);
  for (const file of files) {
    const target = join(dir, file.path);
    for (let d = dirname(target); !dirs.has(d); d = dirname(d)) dirs.add(d);
    await mkdir(dirname(target), { recursive: true, mode: dirMode(tree) });
    if (installed.dir && unchanged.has(file.path)) {
      await link(join(installed.dir, file.path), target);
      continue;
    }
    await writeFile(target, file.content, { mode: fileMode(file) });
    await chown(target, 0, tree.gid);
    await chmod(target, fileMode(file));
  }
  for (const d of dirs) {
    await chown(d, 0, tree.gid);
    await chmod(d, dirMode(tree));
  }
  return dir;
}

/** Makes the staged directory the installed generation: rename it, then swap the tree's link in one rename(). */
export async function swap(tree: Tree, staged: string, hash: string, installed: Installed): Promise<string> {
  const data = tree.parent;
  let generation = join(data, `.${tree.name}.gen-${hash}`);
  // The installed generation already has this name when a file in it was edited by hand: the new one takes another.
  if (generation === installed.dir) generation += `-${randomBytes(4).toString('hex')}`;
  // A generation of this name that is not installed is a leftover of an earlier run.
  if (existsSync(generation) && generation !== installed.dir) await rm(generation, { recursive: true, force: true });
  await rename(staged, generation);
  const temporaryLink = join(data, `.${tree.name}.link-${process.pid}-${randomBytes(4).toString('hex')}`);
  await symlink(relative(data, generation), temporaryLink);
  await rename(temporaryLink, join(data, tree.name));
  return generation;
}

/** Removes what earlier renders left beside the tree's link (only names render creates): old generations, dead runs' staging and links. */
export async function sweep(tree: Tree, keep: string | undefined): Promise<void> {
  const { generation, staging, link } = names(tree);
  for (const name of await readdir(tree.parent).catch(() => [] as string[])) {
    const path = join(tree.parent, name);
    const pid = Number((staging.exec(name) ?? link.exec(name))?.[1] ?? 0);
    const stale = generation.test(name) ? path !== keep : pid > 0 && pid !== process.pid && !alive(pid);
    if (stale && (await lstat(path).catch(() => undefined))) await rm(path, { recursive: true, force: true });
  }
}
