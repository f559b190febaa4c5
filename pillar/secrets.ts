// Secrets of the pillar and of plugin options: the values their schemas mark
// writeOnly (see secret-keys.ts). A secret is a literal, `{env: NAME}`
// (environment or .env), or null: generated once, stored under
// {data_root}/secrets/ with mode 0600 and reused on every later run. Every value
// known is registered with the logger's mask, and so is every credential in a
// URL anywhere in the pillar.
import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { urlCredentials } from './credentials.ts';
import { mapTree } from './merge.ts';
import { PillarSchema, type Pillar } from './schema.ts';
import { isResolvableSecret, secretNodes } from './secret-keys.ts';
import { MIN_SECRET_LENGTH } from './types.ts';
import { UserError } from './user-error.ts';

export type SecretValue = null | string | { env: string };

/** Environment variables that hold credentials whatever the pillar says. */
export const CREDENTIAL_ENV = ['GITHUB_TOKEN', 'GH_TOKEN', 'GH_PASSWORD'] as const;

/** Environment variables holding URLs that may carry credentials (a proxy's user:password@). */
const URL_ENV = ['GOPROXY', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'DOCKER_HOST'] as const;

/** What Secrets needs of a logger (the pillar does not depend on lib/logger.ts). */
export interface SecretMask {
  addSecret(value: string | null | undefined): void;
  warn(message: string): void;
}

/** A private key file is masked too; a larger one is no key. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Up to `limit` bytes of a file, or undefined when it cannot be read. */
async function readSome(file: string, limit: number): Promise<string | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(limit);
      const { bytesRead } = await handle.read(buffer, 0, limit, 0);
      return buffer.toString('utf8', 0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

interface SecretTree {
  schema: TSchema;
  tree: unknown;
  /** Key path of the tree in the pillar ('' for the pillar, plugins_config.<name> for options). */
  base: string;
}

export class Secrets {
  readonly #dataRoot: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: SecretMask;
  readonly #trees: SecretTree[];

  constructor(pillar: Pillar, env: NodeJS.ProcessEnv, log: SecretMask) {
    this.#dataRoot = pillar.data_root;
    this.#env = env;
    this.#log = log;
    this.#trees = [{ schema: PillarSchema, tree: pillar, base: '' }];
  }

  /**
   * Adds a tree whose schema marks more secrets (a plugin's options, under
   * plugins_config.<name>): they are masked from now on and `get` resolves them.
   */
  async addTree(schema: TSchema, tree: unknown, base: string): Promise<void> {
    const added = { schema, tree, base };
    this.#trees.push(added);
    await this.#register(added);
  }

  /** Key path → declared value of every secret that `get` resolves ({env: NAME}, null or text). */
  declared(): Map<string, SecretValue> {
    const nodes = this.#trees.flatMap(({ schema, tree, base }) => secretNodes(schema, tree, base));
    return new Map(nodes.filter((node) => isResolvableSecret(node.schema)).map((node) => [node.path, node.value as SecretValue]));
  }

  get dir(): string {
    return join(this.#dataRoot, 'secrets');
  }

  /** Masks every secret value that exists now, without generating any. */
  async registerKnown(): Promise<void> {
    for (const name of CREDENTIAL_ENV) this.#log.addSecret(this.#env[name]);
    for (const name of URL_ENV) for (const credential of urlCredentials(this.#env[name] ?? '')) this.#log.addSecret(credential);
    for (const tree of this.#trees) await this.#register(tree);
  }

  async #register({ schema, tree, base }: SecretTree): Promise<void> {
    for (const { path, value, schema: secret } of secretNodes(schema, tree, base)) {
      if (typeof value === 'string') this.#log.addSecret(value); // the logger masks each line of PEM text too
      else if (value === null && isResolvableSecret(secret)) this.#log.addSecret(await this.#readStored(path));
      else if (typeof value === 'object' && value !== null && 'env' in value) this.#log.addSecret(this.#env[String(value.env)]);
      else if (typeof value === 'object' && value !== null && 'file' in value) this.#log.addSecret(await readSome(String(value.file), MAX_KEY_FILE_BYTES));
    }
    // Not secrets in the schema, but any URL may carry a token (https://TOKEN@host/...).
    mapTree(tree, (node) => {
      if (typeof node === 'string') for (const credential of urlCredentials(node)) this.#log.addSecret(credential);
      return undefined;
    });
  }

  /** The value of the secret at `path`, generating and storing it if declared null. */
  async get(path: string): Promise<string> {
    const declared = this.declared();
    if (!declared.has(path)) throw new UserError(`${path}: not a secret of this pillar (secrets: ${[...declared.keys()].join(', ')})`);
    const value = declared.get(path)!;
    const resolved = typeof value === 'string' ? value : value === null ? await this.#generated(path) : this.#env[value.env];
    if (!resolved) throw new UserError(`${path}: expected the environment variable ${(value as { env: string }).env} to be set (in the environment or .env)`);
    if (resolved.length < MIN_SECRET_LENGTH) {
      throw new UserError(`${path}: expected a secret of at least ${MIN_SECRET_LENGTH} characters in ${(value as { env: string }).env}, got ${resolved.length}`);
    }
    this.#log.addSecret(resolved);
    return resolved;
  }

  /**
   * The secrets directory, private: made with mode 0700, a wider mode of this
   * user's directory narrowed, another user's (or a symlink) refused. Returns
   * false when it does not exist (and `create` is false).
   */
  async #privateDir(create: boolean): Promise<boolean> {
    if (create) {
      await mkdir(this.#dataRoot, { recursive: true });
      await mkdir(this.dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
    let info;
    try {
      info = await lstat(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    if (!info.isDirectory()) throw new UserError(`${this.dir}: expected the directory of generated secrets, found ${info.isSymbolicLink() ? 'a symbolic link' : 'a file'}; move it away`);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new UserError(`${this.dir}: belongs to uid ${info.uid}, not to this user (uid ${uid}); generated secrets are kept only in a directory of the user who runs the kit`);
    }
    if ((info.mode & 0o777) !== 0o700) {
      if ((info.mode & 0o077) !== 0) this.#log.warn(`${this.dir} had mode 0${(info.mode & 0o777).toString(8)}; set to 0700`);
      await chmod(this.dir, 0o700); // whatever the umask or a hand-made directory said
    }
    return true;
  }

  /** The stored value of a generated secret, undefined when none is stored yet. */
  async #readStored(path: string): Promise<string | undefined> {
    if (!(await this.#privateDir(false))) return undefined;
    const file = join(this.dir, path);
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (!text) throw new UserError(`${file}: the stored value of ${path} is empty; delete the file to generate a new one (then render again whatever uses it)`);
    return text;
  }

  async #generated(path: string): Promise<string> {
    const stored = await this.#readStored(path);
    if (stored) return stored;
    await this.#privateDir(true);
    const value = randomBytes(24).toString('base64url');
    const file = join(this.dir, path);
    // Written whole under a private name, then linked into place: link() fails
    // if another run got there first, and that run's file is complete, so two
    // concurrent first runs agree on one value.
    const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, `${value}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await chmod(temporary, 0o600);
      await link(temporary, file);
      return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await this.#readStored(path))!;
      throw error;
    } finally {
      await unlink(temporary);
    }
  }
}
