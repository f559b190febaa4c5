// plugins:show: what every plugin registered (processes, routes, files, tasks),
// each with the plugin that owns it, in setup order.
import type { PluginRegistry } from '../plugins/host.ts';
import { defineTask } from './task.ts';

/** Aligned rows: name, owner, detail. */
function table(rows: readonly (readonly [string, string, string])[]): string[] {
  const width = (i: 0 | 1) => Math.max(...rows.map((row) => row[i].length));
  return rows.map(([name, owner, detail]) => `  ${name.padEnd(width(0))}  ${owner.padEnd(width(1))}  ${detail}`.trimEnd());
}

function pluginsReport(registry: PluginRegistry): string {
  const sections: [string, (readonly [string, string, string])[]][] = [
    ['plugins', registry.plugins.map((p) => [p.name, '', p.dependsOn?.length ? `after ${p.dependsOn.join(', ')}` : ''] as const)],
    ['processes', registry.processes.map(({ owner, value }) => [value.name, owner, value.command.join(' ')] as const)],
    ['routes', registry.routes.map(({ owner, value }) => [value.prefix, owner, `-> ${value.upstream.host}:${value.upstream.port}`] as const)],
    ['files', registry.files.map(({ owner, value }) => [value.path, owner, value.mode === undefined ? '' : `mode ${value.mode.toString(8)}`] as const)],
    ['tasks', registry.tasks.map(({ owner, value }) => [value.name, owner, value.description] as const)],
  ];
  return sections.map(([title, rows]) => [`${title} (${rows.length}):`, ...table(rows)].join('\n')).join('\n');
}

export const pluginsShowTask = defineTask({
  name: 'plugins:show',
  description: 'List every plugin and the processes, routes, files and tasks it registered, with their owner',
  async run(ctx) {
    ctx.log.print(pluginsReport(ctx.plugins));
  },
});
