// The plugin API: a plugin registers supervised processes, proxy routes, files,
// renderers and tasks through a host. The built-in components use this same API.
// Everything a plugin registers is checked with the pillar's typed values, so a
// plugin cannot smuggle configuration syntax into a rendered file.
import { Type, type Static, type TObject } from '@sinclair/typebox';
import type { Context } from '../lib/context.ts';
import type { FlagValues } from '../lib/flags.ts';
import { AbsolutePath, EnvName, HostAddress, Port, ProcessName, RoutePrefix, SafeText, UnixName, strictObject, typedRecord } from '../pillar/types.ts';
import type { Pillar } from '../pillar/schema.ts';
import type { Stack } from './stack.ts';

/** One argument of a supervised command: no spaces, quotes or config syntax. */
export const CommandArg = Type.String({ pattern: '^[A-Za-z0-9._/:=@,+-]+$', title: 'command argument (no spaces, quotes or ; { } $ %)' });

/** A path relative to the folder it is installed in ({data_root}/etc, or {data_root}/secrets/processes for a private file). */
const RelativeFilePath = Type.String({ pattern: '^(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._-][A-Za-z0-9._/-]*$', title: 'path relative to {data_root}/etc (secrets/processes for a private file; no ..)' });

export const ProcessSpecSchema = strictObject({
  name: ProcessName,
  command: Type.Array(CommandArg, { minItems: 1 }),
  directory: Type.Optional(AbsolutePath),
  user: Type.Optional(UnixName),
  autorestart: Type.Optional(Type.Boolean()),
  environment: Type.Optional(typedRecord(EnvName, SafeText)),
  /**
   * Variables whose values are secrets: NAME -> a private file a renderer returns
   * (path under {data_root}/secrets/processes/). The supervisor starts the process
   * through a root wrapper that reads them and drops to `user`, so the value is in
   * the process's environment only, never in a rendered file or an argv.
   */
  secret_env: Type.Optional(typedRecord(EnvName, RelativeFilePath)),
  /** A private file fed to the process's stdin the same way (redis reads its requirepass from `-`). */
  secret_stdin: Type.Optional(RelativeFilePath),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 999 })),
  startsecs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
  stopsignal: Type.Optional(Type.Union(['TERM', 'INT', 'QUIT', 'HUP', 'KILL', 'USR1', 'USR2'].map((s) => Type.Literal(s)))),
  /** Seconds between the stop signal and SIGKILL to the process group. */
  stopwaitsecs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  /** `file`: {data_root}/log/<name>.log, rotated by logrotate; `stdout`: the supervisor's own output. */
  log: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('stdout')])),
  /** TCP ports the process listens on: no two owners may claim one. */
  ports: Type.Optional(Type.Array(Port)),
});

export const RouteSpecSchema = strictObject({
  prefix: RoutePrefix,
  upstream: strictObject({ host: HostAddress, port: Port }),
  /** Largest request body nginx accepts on this route; 0 is unlimited (image pushes). */
  max_body_size: Type.Optional(Type.String({ pattern: '^[0-9]+[kKmMgG]?$' })),
});

/** A file written under {data_root}/etc/ (or, private, under {data_root}/secrets/processes/) when the configuration is rendered. */
export const FileSpecSchema = strictObject({
  path: RelativeFilePath,
  content: Type.String(),
  mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777 })),
  /** Holds a password, a key or a hash: mode 0640 at most, and --dry-run never shows it. */
  secret: Type.Optional(Type.Boolean()),
  /** A secret only processes read (through secret_env/secret_stdin): installed under {data_root}/secrets/processes/, root's, 0600, never under etc/. */
  private: Type.Optional(Type.Boolean()),
});

export type ProcessSpec = Static<typeof ProcessSpecSchema>;
export type RouteSpec = Static<typeof RouteSpecSchema>;
export type FileSpec = Static<typeof FileSpecSchema>;

/** A rendered file, with the template it came from (named in its header and in validation errors). */
export interface RenderedFile extends FileSpec {
  template?: string;
}

/**
 * A render hook: called by `gulp render` with the frozen stack model (the pillar,
 * every plugin's processes, routes and files, the secrets); returns files. Pure:
 * the same stack gives the same files.
 */
export type Renderer = (stack: Stack) => RenderedFile[];

/** A plugin task's run: `flags` holds the flags it declared, parsed from the command line. */
export type TaskRun = (ctx: Context, flags: FlagValues) => Promise<void>;

export interface TaskSpec {
  name: string;
  run: TaskRun;
  description: string;
  flags?: Record<string, string>;
}

export interface PluginHost {
  /** The merged, validated pillar of this run. */
  readonly pillar: Pillar;
  addProcess(process: ProcessSpec): void;
  addRoute(route: RouteSpec): void;
  addFile(file: FileSpec): void;
  /** Files computed from the whole stack at render time (a supervisor config from every process, say). */
  addRenderer(render: Renderer): void;
  addTask(task: TaskSpec): void;
}

/** No options: a plugin without a schema takes none. */
const NoOptions = Type.Object({}, { additionalProperties: false });
type NoOptions = typeof NoOptions;

export interface Plugin<S extends TObject = TObject> {
  name: string;
  dependsOn?: readonly string[];
  /**
   * The options, typed once: one TypeBox object schema gives setup's type
   * (Static<S>), the defaults (each property's `default`) and the check. The
   * user's values come from pillar key plugins_config.<name>.
   */
  options?: S;
  /** Options given in code (a factory's argument); plugins_config.<name> merges over them. */
  given?: Partial<Static<S>>;
  setup(host: PluginHost, options: Static<S>): void | Promise<void>;
}

export function definePlugin<S extends TObject = NoOptions>(plugin: Plugin<S>): Plugin<S> {
  return plugin;
}

/**
 * A plugin factory, Vite-style: `healthz({ port: 8100 })` in a gulpfile. A
 * pillar's `plugins:` list may name a module whose default export is a factory:
 * it is called with no options (plugins_config.<name> gives them).
 */
export function pluginFactory<S extends TObject>(plugin: Plugin<S>): (given?: Partial<Static<S>>) => Plugin<S> {
  return (given = {}) => ({ ...plugin, given });
}
