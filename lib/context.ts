// One context per run: the merged pillar, the plugins, paths, the artifact list,
// the masking logger and the zx shell that goes through it.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { loadPillar } from '../pillar/loader.ts';
import type { Tree } from '../pillar/merge.ts';
import type { Pillar } from '../pillar/schema.ts';
import { CREDENTIAL_ENV, Secrets } from '../pillar/secrets.ts';
import type { Plugin } from '../plugins/api.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { importPlugins, setupPlugins, type PluginRegistry } from '../plugins/host.ts';
import { ArtifactList } from './artifacts.ts';
import type { Selection } from './binaries.ts';
import { masked } from './errors.ts';
import { parseFlags, type Flags } from './flags.ts';
import { Logger, type LoggerOptions } from './logger.ts';
import { besidePath } from './owned-dir.ts';
import { createShell, type Shell } from './shell.ts';

export interface Paths {
  root: string;
  /** Source cache, build cache, builder images state. */
  cache: string;
  dist: string;
  /** dist/bin: the compiled binaries, for the user (package reads the compile cache). */
  bin: string;
  /** package.dir: the packaged release files. */
  release: string;
  /** Held by package to the end of its run (lib/pipe.ts `holds`): one run at a time replaces package.dir and publishes it. */
  releaseLock: string;
  lock: string;
}

export interface Context {
  cwd: string;
  flags: Flags;
  /** process.env with .env's values under it (the environment wins). */
  env: NodeJS.ProcessEnv;
  pillar: Pillar;
  /** Pillar files merged, in order. */
  pillarSources: string[];
  secrets: Secrets;
  plugins: PluginRegistry;
  paths: Paths;
  artifacts: ArtifactList;
  /** The binaries this run builds: set by the build steps' defaults. */
  selection?: Selection;
  log: Logger;
  sh: Shell;
}

export interface ContextOptions {
  cwd: string;
  /** Command-line arguments (process.argv.slice(2) by default), parsed strictly against the kit's flags. */
  argv?: readonly string[];
  /** The flags already parsed (a task parses its own); argv is then not read. */
  flags?: Flags;
  /** Where relative paths on the command line start (default: cwd). */
  userDir?: string;
  env?: NodeJS.ProcessEnv;
  /** The caller's code pillar: merged over the defaults, under every pillar file. */
  pillar?: readonly Tree[];
  /** Pillar files named in code (relative to cwd): merged after the code pillar, before pillar/local.yml. */
  pillarFiles?: readonly string[];
  /** Plugins given in code, after the built-ins and before the pillar's. */
  plugins?: readonly Plugin[];
  logger?: LoggerOptions;
  /** Task names of the kit, which plugins may not take. */
  reservedTasks?: Iterable<string>;
}

/** The environment of a run: .env (dotenv) under the real environment. */
function loadEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const file = join(cwd, '.env');
  return existsSync(file) ? { ...parseDotenv(readFileSync(file)), ...env } : { ...env };
}

function paths(cwd: string, cache: string, release: string): Paths {
  const dist = join(cwd, 'dist');
  return {
    root: cwd, cache, dist, bin: join(dist, 'bin'), release,
    releaseLock: besidePath(release, 'lock'),
    lock: join(cwd, 'corpus.lock.json'),
  };
}

export async function createContext(options: ContextOptions): Promise<Context> {
  const cwd = resolve(options.cwd);
  const flags = options.flags ?? parseFlags(options.argv ?? process.argv.slice(2), options.userDir ?? cwd);
  const env = loadEnv(cwd, options.env);
  const log = new Logger({ level: flags.verbose ? 'verbose' : flags.quiet ? 'quiet' : 'info', ...options.logger });
  // Mask credentials before anything can fail and print them.
  for (const name of CREDENTIAL_ENV) log.addSecret(env[name]);
  return masked(log, () => loadContext(cwd, options, flags, env, log));
}

async function loadContext(cwd: string, options: ContextOptions, flags: Flags, env: NodeJS.ProcessEnv, log: Logger): Promise<Context> {
  const { pillar, sources, originOf } = await loadPillar({ cwd, files: flags.pillar, env, code: options.pillar, codeFiles: options.pillarFiles });
  const secrets = new Secrets(pillar, env, log);
  await secrets.registerKnown();
  const plugins = await setupPlugins(
    [
      ...builtinPlugins.map((plugin) => ({ plugin, from: 'corpus-kit (built-in)' })),
      ...(options.plugins ?? []).map((plugin) => ({ plugin, from: 'code' })),
      ...(await importPlugins(pillar.plugins, cwd)),
    ],
    pillar,
    options.reservedTasks ?? [],
    { secrets, originOf },
  );
  const cache = env.CORPUS_KIT_CACHE ? resolve(cwd, env.CORPUS_KIT_CACHE) : join(cwd, '.cache');
  return {
    cwd,
    flags,
    env,
    pillar,
    pillarSources: sources,
    secrets,
    plugins,
    paths: paths(cwd, cache, resolve(cwd, pillar.package.dir)),
    artifacts: new ArtifactList(),
    log,
    sh: createShell(log, { env, cwd }),
  };
}
