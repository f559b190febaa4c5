// A directory the kit replaces whole on every run (package.dir), and may
// therefore delete: only what it can prove it created. A journal beside the
// directory records the identity (device and inode) of the directory the kit
// put in place, and, while a replacement is under way, the exact names of its
// staging and old directories. A folder at that path that the journal does not
// name and that is not empty is refused; siblings with look-alike names are
// never touched; a run that died half-way is finished or rolled back from the
// journal by the next one. Callers hold a lock: one replacement at a time.
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { UserError } from './errors.ts';

/** A file of the kit's beside `path` (a lock, a journal, a stamp): hidden, named after it, `.NAME.corpus-kit-KIND`. */
export const besidePath = (path: string, kind: string): string => join(dirname(path), `.${basename(path)}.corpus-kit-${kind}`);

interface Journal {
  /** Identity of the directory the kit last put in place. */
  owned?: string;
  /** A replacement under way: its directories, by exact name, in the same parent. */
  pending?: { staging: string; old: string; stagingId?: string; oldId?: string };
}

/** "dev:ino", or undefined when nothing is there. */
async function identity(path: string): Promise<string | undefined> {
  const info = await stat(path, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return info && `${info.dev}:${info.ino}`;
}

export class OwnedDir {
  readonly journal: string;
  readonly #parent: string;

  /**
   * `what` names the setting, for messages ("package.dir"); `recognise` says
   * whether a folder the journal does not name is still the kit's own output
   * (one written before the journal existed).
   */
  constructor(readonly dir: string, readonly what: string, readonly recognise: (dir: string) => Promise<boolean> = async () => false) {
    this.#parent = dirname(dir);
    this.journal = besidePath(dir, 'journal');
  }

  async #read(): Promise<Journal> {
    const text = await readFile(this.journal, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '{}';
      throw error;
    });
    try {
      const journal = JSON.parse(text) as Journal;
      if (typeof journal !== 'object' || journal === null || Array.isArray(journal)) throw new Error('not an object');
      return journal;
    } catch (error) {
      throw new UserError(`${this.journal}: not a corpus-kit journal (${(error as Error).message}); without it the kit cannot tell what it created in ${this.#parent}: check ${this.dir}, then delete the journal`);
    }
  }

  #write(journal: Journal): Promise<void> {
    // Under the caller's lock: one fixed partial name, so a killed run leaves nothing new behind.
    return writeFileAtomic(this.journal, `${JSON.stringify(journal)}\n`, `${this.journal}.next`);
  }

  /** Finishes or rolls back a replacement a dead run left half done. */
  async #recover(journal: Journal): Promise<Journal> {
    const { pending } = journal;
    if (!pending) return journal;
    let owned = journal.owned;
    const old = join(this.#parent, pending.old);
    const staging = join(this.#parent, pending.staging);
    const oldId = await identity(old);
    const dirId = await identity(this.dir);
    if (oldId !== undefined && oldId === pending.oldId) {
      // Died between the two renames: the previous directory comes back; or after both: it goes.
      if (dirId === undefined) await rename(old, this.dir);
      else if (dirId === pending.stagingId) {
        owned = dirId;
        await rm(old, { recursive: true, force: true });
      }
    } else if (dirId !== undefined && dirId === pending.stagingId) {
      owned = dirId;
    }
    const stagingId = await identity(staging);
    // Named by the journal before it was made: its identity is recorded once it exists.
    if (stagingId !== undefined && (pending.stagingId === undefined || stagingId === pending.stagingId)) await rm(staging, { recursive: true, force: true });
    const recovered = { owned };
    await this.#write(recovered);
    return recovered;
  }

  /** Refuses a directory at `dir` the kit did not put there, unless it is empty. */
  async #checkOwned(owned: string | undefined): Promise<void> {
    const id = await identity(this.dir);
    if (id === undefined || id === owned) return;
    const entries = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      throw new UserError(`${this.what}: ${this.dir} is not a directory the kit can replace (${error.code ?? error.message})`);
    });
    if (entries.length === 0 || (await this.recognise(this.dir))) return;
    const some = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
    throw new UserError(
      `${this.what}: ${this.dir} holds files corpus-kit did not write (${some}); it is replaced whole on every run, ` +
        `so the kit only replaces a folder it created (recorded in ${this.journal}): move those files away, or set ${this.what} to another folder`,
    );
  }

  /** Fills a new directory with `fill`, then puts it in place of `dir` (the old one goes). */
  async replace<T>(fill: (staging: string) => Promise<T>): Promise<T> {
    await mkdir(this.#parent, { recursive: true });
    let journal = await this.#recover(await this.#read());
    await this.#checkOwned(journal.owned);
    const names = { staging: `${basename(this.dir)}.staging-${process.pid}`, old: `${basename(this.dir)}.old-${process.pid}` };
    const staging = join(this.#parent, names.staging);
    const old = join(this.#parent, names.old);
    for (const path of [staging, old]) {
      if ((await identity(path)) !== undefined) throw new UserError(`${this.what}: ${path} is in the way and was not made by corpus-kit (not in ${this.journal}); move it away`);
    }
    journal = { owned: journal.owned, pending: names };
    await this.#write(journal);
    await mkdir(staging);
    journal = { owned: journal.owned, pending: { ...names, stagingId: await identity(staging) } };
    await this.#write(journal);
    let result: T;
    try {
      result = await fill(staging);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      await this.#write({ owned: journal.owned });
      throw error;
    }
    const oldId = await identity(this.dir);
    await this.#write({ owned: journal.owned, pending: { ...journal.pending!, oldId } });
    if (oldId !== undefined) await rename(this.dir, old);
    await rename(staging, this.dir);
    // Until the journal says otherwise, a next run finishes this (removes the old directory) itself.
    if (oldId !== undefined) await rm(old, { recursive: true, force: true });
    await this.#write({ owned: journal.pending!.stagingId });
    return result;
  }
}
