// Secrets of the pillar: literals, `{env: NAME}` (environment or .env), or null:
// generated once, stored under {data_root}/secrets/ with mode 0600 and reused
// on every later run. Every value known is registered with the logger's mask.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../lib/errors.ts';
import { remoteCredentials } from '../lib/git.ts';
import type { Logger } from '../lib/logger.ts';
import type { Pillar } from './schema.ts';
import { MIN_SECRET_LENGTH } from './types.ts';

export type SecretValue = null | string | { env: string };

/** Environment variables that hold credentials whatever the pillar says. */
export const CREDENTIAL_ENV = ['GITHUB_TOKEN', 'GH_TOKEN', 'GH_PASSWORD'] as const;

export class Secrets {
  readonly #pillar: Pillar;
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: Logger;

  constructor(pillar: Pillar, env: NodeJS.ProcessEnv, log: Logger) {
    this.#pillar = pillar;
    this.#env = env;
    this.#log = log;
  }

  /** Key path → declared value of every secret of the pillar. */
  declared(): Map<string, SecretValue> {
    return new Map([
      ...Object.entries(this.#pillar.users).map(([name, user]): [string, SecretValue] => [`users.${name}.password`, user.password as SecretValue]),
      // The stack's own secrets (render).
      ['redis.password', this.#pillar.redis.password as SecretValue],
      ['registry.http_secret', this.#pillar.registry.http_secret as SecretValue],
    ]);
  }

  get dir(): string {
    return join(this.#pillar.data_root, 'secrets');
  }

  /** Masks every secret value that exists now, without generating any. */
  async registerKnown(): Promise<void> {
    for (const name of CREDENTIAL_ENV) this.#log.addSecret(this.#env[name]);
    for (const [path, value] of this.declared()) {
      if (typeof value === 'string') this.#log.addSecret(value);
      else if (value === null) this.#log.addSecret(await this.#readStored(path));
      else this.#log.addSecret(this.#env[value.env]);
    }
    // A private key given as PEM text (the logger masks each of its lines too).
    const key = this.#pillar.tls.key;
    if (typeof key === 'string') this.#log.addSecret(key);
    // Not secrets in the schema, but a source URL may carry a token (https://TOKEN@host/...).
    for (const { source } of Object.values(this.#pillar.binaries)) {
      for (const remote of [source.git, source.mirror]) if (remote) for (const value of remoteCredentials(remote)) this.#log.addSecret(value);
    }
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

  async #readStored(path: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.dir, path), 'utf8')).trim() || undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async #generated(path: string): Promise<string> {
    const stored = await this.#readStored(path);
    if (stored) return stored;
    await mkdir(this.#pillar.data_root, { recursive: true });
    try {
      await mkdir(this.dir, { mode: 0o700 });
      await chmod(this.dir, 0o700); // whatever the umask
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
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
