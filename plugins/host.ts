// Loads plugins (built-in, from code, from the pillar's `plugins:` list), orders
// them by dependsOn, validates their options and everything they register, and
// reports duplicate names with both owners.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { TSchema } from '@sinclair/typebox';
import { UserError } from '../lib/errors.ts';
import { didYouMean } from '../lib/suggest.ts';
import { deepMerge, isMapping, type Tree } from '../pillar/merge.ts';
import { formatProblem } from '../pillar/problems.ts';
import type { Pillar } from '../pillar/schema.ts';
import type { Secrets } from '../pillar/secrets.ts';
import { SafeText } from '../pillar/types.ts';
import { validate } from '../pillar/validate.ts';
import {
  FileSpecSchema, ProcessSpecSchema, RouteSpecSchema,
  type FileSpec, type Plugin, type ProcessSpec, type RouteSpec, type TaskSpec,
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

/** A plugin's options: its defaults with plugins_config.<name> merged over them, validated. */
export function pluginOptions(plugin: Plugin, pillar: Pillar): Record<string, unknown> {
  const given = pillar.plugins_config[plugin.name] ?? {};
  const defaults = (plugin.defaults ?? {}) as Tree;
  const options = deepMerge(defaults, given as Tree, 'pillar', new Map());
  const what = `plugins_config.${plugin.name}: invalid options for plugin "${plugin.name}"`;
  if (plugin.options) {
    check(plugin.options, options, what);
  } else {
    for (const [key, value] of Object.entries(given)) {
      if (!Object.hasOwn(defaults, key)) {
        const hint = didYouMean(key, Object.keys(defaults));
        throw new PluginError(`${what}: unknown option "${key}"${hint ? `; ${hint}` : ''} (options: ${Object.keys(defaults).join(', ') || 'none'})`);
      }
      const expected = defaults[key];
      const sameType = Array.isArray(expected) ? Array.isArray(value) : isMapping(expected) ? isMapping(value) : typeof value === typeof expected;
      if (!sameType) throw new PluginError(`${what}: option "${key}" expected ${typeof expected} like ${JSON.stringify(expected)}, got ${JSON.stringify(value)}`);
      // Without a schema nothing says where a string ends up (a rendered file, a
      // cron line): it gets the pillar's free-text rule.
      const unsafe = unsafeString(value, key);
      if (unsafe) throw new PluginError(`${what}: option "${unsafe.path}" expected ${SafeText.title}, got ${JSON.stringify(unsafe.value)} (give the plugin an options schema for other values)`);
    }
  }
  return options;
}

const SAFE_TEXT = new RegExp(SafeText.pattern!);

/** The first string inside `value` that the pillar's free-text type refuses. */
function unsafeString(value: unknown, path: string): { path: string; value: string } | undefined {
  if (typeof value === 'string') return SAFE_TEXT.test(value) ? undefined : { path, value };
  const entries = Array.isArray(value) ? value.entries() : isMapping(value) ? Object.entries(value) : [];
  for (const [key, item] of entries) {
    const found = unsafeString(item, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

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
    const plugin = module.default as Plugin | undefined;
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
  secrets?: Pick<Secrets, 'addTree'>,
): Promise<PluginRegistry> {
  const ordered = orderPlugins(sources);
  const known = new Set(ordered.map((s) => s.plugin.name));
  for (const name of Object.keys(pillar.plugins_config)) {
    if (!known.has(name)) {
      const hint = didYouMean(name, known);
      throw new PluginError(`plugins_config.${name}: no plugin named "${name}" is loaded${hint ? `; ${hint}` : ''}`);
    }
  }
  const registry: PluginRegistry = { plugins: ordered.map((s) => s.plugin), processes: [], routes: [], files: [], tasks: [] };
  const taskOwners = new Map<string, string>([...reservedTasks].map((name) => [name, 'corpus-kit']));
  const unique = <T>(list: Owned<T>[], kind: string, key: (v: T) => string, owner: string, value: T) => {
    const existing = list.find((item) => key(item.value) === key(value));
    if (existing) throw new PluginError(`${kind} "${key(value)}" is registered twice: by plugin "${existing.owner}" and by plugin "${owner}"`);
    list.push({ owner, value });
  };
  for (const { plugin } of ordered) {
    const owner = plugin.name;
    const options = pluginOptions(plugin, pillar);
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
        addTask(name, run, description, flags) {
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
