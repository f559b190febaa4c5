// The local target: dist/release/ copied into publish.local.dir/<tag>/. Each
// copy goes to a temporary file in the target directory, is fsynced and hashed
// back, and only then renamed over the old one, so a reader never sees a partial
// file. Unchanged files are left alone; a changed or tampered one is replaced.
// A whole publish holds a cross-process lock on the target directory: it removes
// every temporary file it finds, which must not be another run's copy in progress.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../../lib/errors.ts';
import { hashFile } from '../../lib/hash.ts';
import { withLock } from '../../lib/lock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Outcome, PlanStep, Publisher, PublishFile } from './types.ts';

/** Temporary copies are named so; any left by an interrupted run is removed. */
export const LOCAL_TEMP_PREFIX = '.corpus-kit-tmp-';

export class LocalPublisher implements Publisher {
  readonly description: string;
  readonly #dir: string;
  readonly #log: Logger;

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
    this.description = `local folder ${dir}`;
  }

  async plan(files: readonly PublishFile[]): Promise<PlanStep[]> {
    let entries: string[];
    try {
      entries = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return [{ action: 'create', name: this.#dir, reason: 'folder does not exist' }, ...files.map((f) => ({ action: 'upload' as const, name: f.name, reason: 'new' }))];
    }
    const steps: PlanStep[] = entries.filter((e) => e.startsWith(LOCAL_TEMP_PREFIX)).map((name) => ({ action: 'delete', name, reason: 'left by an interrupted run' }));
    for (const file of files) steps.push(await this.#compare(file, entries.includes(file.name)));
    return steps;
  }

  async #compare(file: PublishFile, present: boolean): Promise<PlanStep> {
    if (!present) return { action: 'upload', name: file.name, reason: 'new' };
    const target = join(this.#dir, file.name);
    if ((await stat(target)).size !== file.size) return { action: 'replace', name: file.name, reason: 'size differs' };
    const { sha256 } = await hashFile(target);
    return sha256 === file.sha256
      ? { action: 'skip', name: file.name, reason: 'identical (size and sha256)' }
      : { action: 'replace', name: file.name, reason: `sha256 differs (${sha256.slice(0, 12)}): changed or tampered with` };
  }

  async publish(files: readonly PublishFile[]): Promise<Outcome[]> {
    // Beside the target, not in it: the target holds only release files.
    const lock = join(dirname(this.#dir), `.${basename(this.#dir)}.corpus-kit-lock`);
    await mkdir(dirname(lock), { recursive: true });
    return withLock(lock, () => this.#publishLocked(files), { what: 'publish', timeoutMs: 600_000, onWait: (holder) => this.#log.info(holder) });
  }

  async #publishLocked(files: readonly PublishFile[]): Promise<Outcome[]> {
    const steps = await this.plan(files);
    await mkdir(this.#dir, { recursive: true });
    for (const step of steps.filter((s) => s.action === 'delete')) await rm(join(this.#dir, step.name), { force: true });
    const outcomes: Outcome[] = [];
    for (const file of files) {
      const step = steps.find((s) => s.name === file.name && s.action !== 'delete')!;
      if (step.action !== 'skip') {
        await this.#copy(file);
        this.#log.info(`publish: ${step.action === 'replace' ? 'replaced' : 'copied'} ${file.name} (${step.reason})`);
      }
      outcomes.push({ name: file.name, size: file.size, sha256: file.sha256, action: step.action, url: pathToFileURL(join(this.#dir, file.name)).href });
    }
    return outcomes;
  }

  async #copy(file: PublishFile): Promise<void> {
    const temp = join(this.#dir, `${LOCAL_TEMP_PREFIX}${randomBytes(4).toString('hex')}-${file.name}`);
    try {
      await copyFile(file.path, temp);
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const copied = await hashFile(temp);
      if (copied.size !== file.size || copied.sha256 !== file.sha256) {
        throw new UserError(`${file.name}: the copy in ${this.#dir} does not match (sha256 ${copied.sha256}, expected ${file.sha256}); the previous file is left in place`);
      }
      await rename(temp, join(this.#dir, file.name));
    } finally {
      await rm(temp, { force: true });
    }
  }
}
