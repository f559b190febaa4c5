// The local target: dist/release/ published as publish.local.dir/<tag>/, which
// is a symlink to one complete, verified version of the release kept in
// publish.local.dir/.<tag>.versions/. A publish that changes anything builds the
// whole new version beside the current one (unchanged files and files others put
// in the folder hard-linked, new ones copied, fsynced and hashed back), then
// switches the symlink in one rename: a reader sees the old release or the new
// one, never a mix, and a run killed at any moment leaves the old one whole.
// The version shown before stays until the next switch, for readers inside it.
// The next run removes what a killed run left in the versions folder; nothing
// outside it is ever deleted. One decision path serves the dry run (which stops
// before any write, and takes no lock) and the real run (under a cross-process
// lock beside the target, so two runs never clean up each other's work; a
// killed run's lock file is a free lock, which the next run takes and removes).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, cp, link, lstat, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../../lib/errors.ts';
import { hashFile } from '../../lib/hash.ts';
import { withLock } from '../../lib/lock.ts';
import type { Logger } from '../../lib/logger.ts';
import { besidePath } from '../../lib/owned-dir.ts';
import type { Outcome, PlanStep, Publisher, PublishFile } from './types.ts';

/** Temporary copies of the unversioned layout were named so; one left in the folder is not carried into the next version. */
export const LOCAL_TEMP_PREFIX = '.corpus-kit-tmp-';

/** A complete version (`v<ms>-<id>`), one being built (`staging-<id>`), a symlink about to be switched in, an unversioned folder moved aside. */
const VERSION = /^v\d{13}-[0-9a-f]{8}$/;
const KIT_ENTRY = /^(?:v\d{13}-[0-9a-f]{8}|staging-[0-9a-f]{8}|link-[0-9a-f]{8}|unversioned-[0-9a-f]{8})$/;

export interface LocalOptions {
  /** How long a publish waits for another one into the same folder. */
  lockTimeoutMs?: number;
  /** Called with each copy once it is written and fsynced, before it is hashed back (tests corrupt it here). */
  afterCopy?(path: string): Promise<void>;
}

interface FileDecision {
  file: PublishFile;
  action: 'upload' | 'replace' | 'skip';
  reason: string;
}

/** What the target holds and what a publish does to it: the one decision path of plan() and publish(). */
interface Decision {
  /** The folder the target shows now (a version, or an unversioned folder), if any. */
  current?: string;
  /** The target is a real folder, from before versioned publishing. */
  unversioned: boolean;
  /** The symlink is missing although a complete version exists (a run killed before its switch). */
  relink: boolean;
  /** Entries of the versions folder (or temporary copies of the folder) to remove, with why. */
  leftovers: { path: string; reason: string }[];
  /** Entries of the current folder that are not release files: carried into the new version. */
  others: string[];
  files: FileDecision[];
  /** A new version is built and switched in: a file changes, or the folder holds what the release must not. */
  switch: boolean;
}

const id = () => randomBytes(4).toString('hex');

/** Where the versions of the folder `dir` shows are kept (and what killed runs left). */
export const versionsDir = (dir: string) => join(dirname(dir), `.${basename(dir)}.versions`);

export class LocalPublisher implements Publisher {
  readonly description: string;
  readonly #dir: string;
  readonly #versions: string;
  readonly #log: Logger;
  readonly #options: LocalOptions;

  constructor(dir: string, log: Logger, options: LocalOptions = {}) {
    this.#dir = dir;
    this.#versions = versionsDir(dir);
    this.#log = log;
    this.#options = options;
    this.description = `local folder ${dir}`;
  }

  async plan(files: readonly PublishFile[]): Promise<PlanStep[]> {
    return steps(await this.#decide(files), this.#dir);
  }

  async publish(files: readonly PublishFile[]): Promise<Outcome[]> {
    // Beside the target, not in it: the target holds only release files.
    const lock = besidePath(this.#dir, 'lock');
    return withLock(lock, () => this.#publishLocked(files), {
      what: `publish into ${this.#dir}`,
      timeoutMs: this.#options.lockTimeoutMs ?? 600_000,
      onWait: (holder) => this.#log.info(holder),
    });
  }

  async #publishLocked(files: readonly PublishFile[]): Promise<Outcome[]> {
    const decision = await this.#decide(files);
    for (const leftover of decision.leftovers) {
      this.#log.info(`publish: removing ${leftover.path} (${leftover.reason})`);
      await rm(leftover.path, { recursive: true, force: true });
    }
    if (decision.switch) await this.#switchTo(await this.#build(decision), decision);
    else if (decision.relink && decision.current) await this.#link(decision.current);
    return decision.files.map(({ file, action }) => ({ name: file.name, size: file.size, sha256: file.sha256, action, url: pathToFileURL(join(this.#dir, file.name)).href }));
  }

  /** Reads the target; changes nothing. */
  async #decide(files: readonly PublishFile[]): Promise<Decision> {
    const decision: Decision = { unversioned: false, relink: false, switch: false, leftovers: [], others: [], files: [] };
    const target = await lstat(this.#dir).catch(notFound);
    const stored = (await readdir(this.#versions).catch(notFound)) ?? [];
    if (target?.isSymbolicLink()) {
      const points = resolve(dirname(this.#dir), await readlink(this.#dir));
      if (dirname(points) !== this.#versions || !VERSION.test(basename(points))) {
        throw new UserError(`${this.#dir} is a symlink to ${points}, which corpus-kit did not create; remove the link (or set publish.local.dir to another folder)`);
      }
      // A link to a version gone (removed by hand) shows nothing: the next version replaces it.
      if (stored.includes(basename(points))) decision.current = points;
    } else if (target?.isDirectory()) {
      decision.current = this.#dir;
      decision.unversioned = true;
    } else if (target) {
      throw new UserError(`${this.#dir} is not a folder; remove it (or set publish.local.dir to another folder)`);
    } else {
      // No target, but a complete version: a run that died before its switch (the newest version is what it built).
      const newest = stored.filter((name) => VERSION.test(name)).sort().at(-1);
      if (newest) [decision.current, decision.relink] = [join(this.#versions, newest), true];
    }
    const entries = decision.current ? await readdir(decision.current) : [];
    const temporary = entries.filter((e) => e.startsWith(LOCAL_TEMP_PREFIX));
    for (const name of temporary) decision.leftovers.push({ path: join(decision.current!, name), reason: 'left by an interrupted run' });
    const names = new Set(files.map((f) => f.name));
    decision.others = entries.filter((e) => !names.has(e) && !e.startsWith(LOCAL_TEMP_PREFIX));
    for (const file of files) decision.files.push(await this.#compare(file, decision.current && entries.includes(file.name) ? join(decision.current, file.name) : undefined));
    decision.switch = decision.files.some((f) => f.action !== 'skip') || decision.unversioned || temporary.length > 0;
    // One version besides the one shown stays until the next switch: a reader may still be inside it.
    // After this run's switch that is the current one; without a switch, the newest other one.
    const kept = decision.switch ? decision.current : join(this.#versions, stored.filter((n) => VERSION.test(n) && join(this.#versions, n) !== decision.current).sort().at(-1) ?? '');
    for (const name of stored.filter((n) => KIT_ENTRY.test(n) && ![decision.current, kept].includes(join(this.#versions, n)))) {
      decision.leftovers.push({ path: join(this.#versions, name), reason: VERSION.test(name) ? 'an older version' : 'left by an interrupted run' });
    }
    return decision;
  }

  async #compare(file: PublishFile, present: string | undefined): Promise<FileDecision> {
    if (!present) return { file, action: 'upload', reason: 'new' };
    const stat = await lstat(present);
    if (!stat.isFile()) return { file, action: 'replace', reason: 'not a regular file' };
    if (stat.size !== file.size) return { file, action: 'replace', reason: 'size differs' };
    const { sha256 } = await hashFile(present);
    return sha256 === file.sha256
      ? { file, action: 'skip', reason: 'identical (size and sha256)' }
      : { file, action: 'replace', reason: `sha256 differs (${sha256.slice(0, 12)}): changed or tampered with` };
  }

  /** The whole new version, complete and verified, under its final name in the versions folder. */
  async #build(decision: Decision): Promise<string> {
    await mkdir(this.#versions, { recursive: true });
    const staging = join(this.#versions, `staging-${id()}`);
    await mkdir(staging);
    try {
      for (const { file, action, reason } of decision.files) {
        const to = join(staging, file.name);
        if (action === 'skip') await link(join(decision.current!, file.name), to);
        else {
          await this.#copy(file, to);
          this.#log.info(`publish: ${action === 'replace' ? 'replaced' : 'copied'} ${file.name} (${reason})`);
        }
      }
      for (const name of decision.others) await carry(join(decision.current!, name), join(staging, name));
      await fsync(staging);
      const version = join(this.#versions, `v${String(Date.now()).padStart(13, '0')}-${id()}`);
      await rename(staging, version);
      await fsync(this.#versions);
      return version;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /** Copies, fsyncs and hashes back; a copy that does not match fails the run before anything is switched. */
  async #copy(file: PublishFile, to: string): Promise<void> {
    await copyFile(file.path, to, constants.COPYFILE_EXCL);
    await fsync(to);
    await this.#options.afterCopy?.(to);
    const copied = await hashFile(to);
    if (copied.size !== file.size || copied.sha256 !== file.sha256) {
      throw new UserError(`${file.name}: the copy in ${this.#dir} does not match (sha256 ${copied.sha256}, expected ${file.sha256}); the previous release is left in place`);
    }
  }

  /** The target shows `version` from now on. The version it showed before is kept until the next switch (readers inside it). */
  async #switchTo(version: string, decision: Decision): Promise<void> {
    if (!decision.unversioned) return this.#link(version);
    // From the unversioned layout (once): every entry of the folder lives on in the new version; the folder moves aside for a moment.
    const aside = join(this.#versions, `unversioned-${id()}`);
    await rename(this.#dir, aside);
    await this.#link(version);
    await rm(aside, { recursive: true, force: true });
  }

  /** Points the target at `version` in one rename of a symlink over it. */
  async #link(version: string): Promise<void> {
    const next = join(this.#versions, `link-${id()}`);
    await symlink(join(basename(this.#versions), basename(version)), next);
    await rename(next, this.#dir);
    await fsync(dirname(this.#dir));
  }
}

function notFound(error: NodeJS.ErrnoException): undefined {
  if (error.code !== 'ENOENT') throw error;
  return undefined;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** An entry someone else put in the folder goes on into the new version: a file as a hard link, anything else copied. */
async function carry(from: string, to: string): Promise<void> {
  if ((await lstat(from)).isFile()) await link(from, to);
  else await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

/** The plan a dry run prints, from the same decision a real run carries out. */
function steps(decision: Decision, dir: string): PlanStep[] {
  const planned: PlanStep[] = [];
  if (!decision.current) planned.push({ action: 'create', name: dir, reason: 'folder does not exist' });
  for (const leftover of decision.leftovers) planned.push({ action: 'delete', name: basename(leftover.path), reason: leftover.reason });
  if (decision.unversioned) planned.push({ action: 'rename', name: dir, reason: 'a folder of its own: becomes a symlink to a verified version of it' });
  if (decision.relink) planned.push({ action: 'rename', name: dir, reason: `pointed at ${basename(decision.current!)}, the version an interrupted run completed` });
  for (const { file, action, reason } of decision.files) planned.push({ action, name: file.name, reason });
  return planned;
}
