// The plugin API: a plugin registers supervised processes, proxy routes, files
// and tasks through a host. The built-in components use this same API.
// Everything a plugin registers is checked with the pillar's typed values, so a
// plugin cannot smuggle configuration syntax into a rendered file.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Context } from '../lib/context.ts';
import type { FlagValues } from '../lib/flags.ts';
import { AbsolutePath, EnvName, HostAddress, Port, ProcessName, RoutePrefix, SafeText, UnixName, strictObject, typedRecord } from '../pillar/types.ts';
import type { Pillar } from '../pillar/schema.ts';

/** One argument of a supervised command: no spaces, quotes or config syntax. */
export const CommandArg = Type.String({ pattern: '^[A-Za-z0-9._/:=@,+-]+$', title: 'command argument (no spaces, quotes or ; { } $ %)' });

export const ProcessSpecSchema = strictObject({
  name: ProcessName,
  command: Type.Array(CommandArg, { minItems: 1 }),
  directory: Type.Optional(AbsolutePath),
  user: Type.Optional(UnixName),
  autorestart: Type.Optional(Type.Boolean()),
  environment: Type.Optional(typedRecord(EnvName, SafeText)),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 999 })),
  startsecs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
  stopsignal: Type.Optional(Type.Union(['TERM', 'INT', 'QUIT', 'HUP', 'KILL', 'USR1', 'USR2'].map((s) => Type.Literal(s)))),
});

export const RouteSpecSchema = strictObject({
  prefix: RoutePrefix,
  upstream: strictObject({ host: HostAddress, port: Port }),
  /** Largest request body nginx accepts on this route; 0 is unlimited (image pushes). */
  max_body_size: Type.Optional(Type.String({ pattern: '^[0-9]+[kKmMgG]?$' })),
});

/** A file written under {data_root}/etc/ when the configuration is rendered. */
export const FileSpecSchema = strictObject({
  path: Type.String({ pattern: '^(?!.*(?:^|/)\\.\\.(?:/|$))[A-Za-z0-9._-][A-Za-z0-9._/-]*$', title: 'path relative to {data_root}/etc (no ..)' }),
  content: Type.String(),
  mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777 })),
});

export type ProcessSpec = Static<typeof ProcessSpecSchema>;
export type RouteSpec = Static<typeof RouteSpecSchema>;
export type FileSpec = Static<typeof FileSpecSchema>;

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
  addTask(name: string, run: TaskRun, description: string, flags?: Record<string, string>): void;
}

export interface Plugin<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  dependsOn?: string[];
  /** Option defaults; the user's values come from pillar key plugins_config.<name>. */
  defaults?: O;
  /** TypeBox schema of the options; without one, options must keep the defaults' keys and types. */
  options?: TSchema;
  setup(host: PluginHost, options: O): void | Promise<void>;
}

export function definePlugin<O extends Record<string, unknown>>(plugin: Plugin<O>): Plugin<O> {
  return plugin;
}
