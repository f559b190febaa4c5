// Loads plugins (built-in, from code, from the pillar's `plugins:` list), orders
// them by dependsOn, validates their options and everything they register, and
// reports duplicate names with both owners.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UserError } from '../lib/errors.ts';
import { didYouMean } from '../lib/suggest.ts';
import { deepMerge, type Tree } from '../pillar/merge.ts';
import { formatProblem, type Problem } from '../pillar/problems.ts';
import type { Pillar } from '../pillar/schema.ts';
import type { Secrets } from '../pillar/secrets.ts';
import { validate } from '../pillar/validate.ts';
import {
  FileSpecSchema, ProcessSpecSchema, RouteSpecSchema,
  type FileSpec, type Plugin, type ProcessSpec, type Renderer, type RouteSpec, type TaskSpec,
} from './api.ts';

export class PluginError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PluginError';
  }
}

export interface Owned<T> {
  owner: string;
  value: T;
}

export interface PluginRegistry {
  /** Plugins in dependency order. */
  plugins: Plugin[];
  processes: Owned<ProcessSpec>[];
  routes: Owned<RouteSpec>[];
  files: Owned<FileSpec>[];
  renderers: Owned<Renderer>[];
  tasks: Owned<TaskSpec>[];
}

/** A plugin as listed, with where it came from (for messages). */
export interface PluginSource {
  plugin: Plugin;
  from: string;
}

function check(schema: TSchema, value: unknown, what: string): void {
  const problems = validate(schema, value);
  if (problems.length > 0) throw new PluginError(`${what}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
}

/** Stable topological order: registration order, each plugin after its dependencies. */
export function orderPlugins(sources: readonly PluginSource[]): PluginSource[] {
  const byName = new Map<string, PluginSource>();
  for (const source of sources) {
    const previous = byName.get(source.plugin.name);
    if (previous) throw new PluginError(`plugin "${source.plugin.name}" is registered twice: by ${previous.from} and by ${source.from}`);
    byName.set(source.plugin.name, source);
  }
  const ordered: PluginSource[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (source: PluginSource, chain: string[]) => {
    const name = source.plugin.name;
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new PluginError(`plugin dependency cycle: ${[...chain.slice(chain.indexOf(name)), name].join(' -> ')}`);
    }
    state.set(name, 'visiting');
    for (const dependency of source.plugin.dependsOn ?? []) {
      const target = byName.get(dependency);
      if (!target) {
        const hint = didYouMean(dependency, byName.keys());
        throw new PluginError(`plugin "${name}" (${source.from}) depends on "${dependency}", which is not loaded${hint ? `; ${hint}` : ''}`);
      }
      visit(target, [...chain, name]);
    }
    state.set(name, 'done');
    ordered.push(source);
  };
  for (const source of sources) visit(source, []);
  return ordered;
}

/** Where a plugins_config key was set: the pillar file, for messages. */
export type OriginOf = (path: string) => string | undefined;

/**
 * A plugin's options: its schema's defaults, under what code gave (a factory's
 * argument), under plugins_config.<name>; checked against the schema. Returns
 * the options, or the problems (each with the file the value came from).
 */
function pluginOptions(plugin: Plugin, pillar: Pillar, originOf: OriginOf = () => undefined): { options: Record<string, unknown>; problems: Problem[] } {
  const base = `plugins_config.${plugin.name}`;
  const fromPillar = (pillar.plugins_config[plugin.name] ?? {}) as Tree;
  const fromCode = (plugin.given ?? {}) as Tree;
  const merged = deepMerge(structuredClone(fromCode), structuredClone(fromPillar), 'pillar', new Map());
  const schema = plugin.options ?? NO_OPTIONS;
  const options = Value.Default(schema, merged) as Record<string, unknown>;
  const problems = validate(schema, options).map((problem) => {
    const path = problem.path ? `${base}.${problem.path}` : base;
    const key = problem.path.split('.')[0] ?? '';
    const file = !Object.hasOwn(fromPillar, key) && Object.hasOwn(fromCode, key) ? `code: ${plugin.name}(options)` : originOf(path);
    return { ...problem, path, file: problem.file ?? file, hint: [problem.hint, `an option of plugin "${plugin.name}"`].filter(Boolean).join('; ') };
  });
  return { options, problems };
}

const NO_OPTIONS = Type.Object({}, { additionalProperties: false, title: 'no options' });

/** Imports the plugins named by the pillar: relative paths from cwd, or package names. */
export async function importPlugins(specifiers: readonly string[], cwd: string): Promise<PluginSource[]> {
  const require = createRequire(resolve(cwd, 'package.json'));
  const sources: PluginSource[] = [];
  for (const specifier of specifiers) {
    const local = specifier.startsWith('.') || isAbsolute(specifier);
    let module: { default?: unknown };
    try {
      const url = local ? pathToFileURL(resolve(cwd, specifier)).href : pathToFileURL(require.resolve(specifier)).href;
      module = (await import(url)) as { default?: unknown };
    } catch (error) {
      throw new PluginError(`plugins: cannot load "${specifier}" (from ${cwd}): ${(error as Error).message}`);
    }
    // A factory (healthz({ port })) is called with no options: plugins_config gives them.
    const exported = typeof module.default === 'function' ? (module.default as () => unknown)() : module.default;
    const plugin = exported as Plugin | undefined;
    if (!plugin || typeof plugin.name !== 'string' || typeof plugin.setup !== 'function') {
      throw new PluginError(`plugins: "${specifier}" has no default export made with definePlugin({ name, setup })`);
    }
    sources.push({ plugin, from: `pillar plugins: ${specifier}` });
  }
  return sources;
}

/** Runs each plugin's setup in dependency order and collects what it registers. */
export async function setupPlugins(
  sources: readonly PluginSource[],
  pillar: Pillar,
  reservedTasks: Iterable<string>,
  { originOf, secrets }: { originOf?: OriginOf; secrets?: Pick<Secrets, 'addTree'> } = {},
): Promise<PluginRegistry> {
  const ordered = orderPlugins(sources);
  const known = new Set(ordered.map((s) => s.plugin.name));
  for (const name of Object.keys(pillar.plugins_config)) {
    if (!known.has(name)) {
      const hint = didYouMean(name, known);
      throw new PluginError(`plugins_config.${name}: no plugin named "${name}" is loaded${hint ? `; ${hint}` : ''}`);
    }
  }
  // Every plugin's option problems at once, before any plugin runs.
  const resolved = ordered.map((source) => pluginOptions(source.plugin, pillar, originOf));
  const problems = resolved.flatMap((r) => r.problems);
  if (problems.length > 0) {
    throw new PluginError(`invalid plugin options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
  }
  const registry: PluginRegistry = { plugins: ordered.map((s) => s.plugin), processes: [], routes: [], files: [], renderers: [], tasks: [] };
  const taskOwners = new Map<string, string>([...reservedTasks].map((name) => [name, 'corpus-kit']));
  const unique = <T>(list: Owned<T>[], kind: string, key: (v: T) => string, owner: string, value: T) => {
    const existing = list.find((item) => key(item.value) === key(value));
    if (existing) throw new PluginError(`${kind} "${key(value)}" is registered twice: by plugin "${existing.owner}" and by plugin "${owner}"`);
    list.push({ owner, value });
  };
  for (const [index, { plugin }] of ordered.entries()) {
    const owner = plugin.name;
    const { options } = resolved[index]!;
    // Options its schema marks writeOnly are secrets: masked, and resolved by ctx.secrets.get.
    if (plugin.options) await secrets?.addTree(plugin.options, options, `plugins_config.${owner}`);
    await plugin.setup(
      {
        pillar,
        addProcess(process) {
          check(ProcessSpecSchema, process, `plugin "${owner}": addProcess`);
          unique(registry.processes, 'process', (p) => p.name, owner, process);
        },
        addRoute(route) {
          check(RouteSpecSchema, route, `plugin "${owner}": addRoute`);
          unique(registry.routes, 'route', (r) => r.prefix, owner, route);
        },
        addFile(file) {
          check(FileSpecSchema, file, `plugin "${owner}": addFile`);
          unique(registry.files, 'file', (f) => f.path, owner, file);
        },
        addRenderer(render) {
          if (typeof render !== 'function') throw new PluginError(`plugin "${owner}": addRenderer: expected a function (stack) => files`);
          registry.renderers.push({ owner, value: render });
        },
        addTask(task) {
          const { name, run, description, flags } = task;
          if (typeof run !== 'function' || typeof description !== 'string') throw new PluginError(`plugin "${owner}": addTask: expected { name, run, description }`);
          if (!/^[a-z][a-z0-9-]*(?::[a-z0-9-]+)*$/.test(name)) throw new PluginError(`plugin "${owner}": addTask: task name "${name}" must look like "name" or "name:action"`);
          const previous = taskOwners.get(name);
          if (previous) throw new PluginError(`task "${name}" is registered twice: by ${previous === 'corpus-kit' ? 'corpus-kit' : `plugin "${previous}"`} and by plugin "${owner}"`);
          taskOwners.set(name, owner);
          registry.tasks.push({ owner, value: { name, run, description, flags } });
        },
      },
      options,
    );
  }
  return registry;
}
