// pillar:check, pillar:show, pillar:schema.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { PillarSchema } from '../pillar/schema.ts';
import { defineTask } from './task.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../pillar/pillar.schema.json', import.meta.url));

/** The schema as committed in pillar/pillar.schema.json. */
export function schemaJson(): string {
  return `${JSON.stringify(PillarSchema, null, 2)}\n`;
}

export const pillarTasks = [
  defineTask({
    name: 'pillar:check',
    description: 'Validate the merged pillar; report every problem with its key path',
    async run(ctx) {
      ctx.log.info(`pillar OK (${ctx.pillarSources.length} file${ctx.pillarSources.length === 1 ? '' : 's'}: ${ctx.pillarSources.join(', ')})`);
    },
  }),
  defineTask({
    name: 'pillar:show',
    description: 'Print the merged pillar as YAML, secrets masked',
    async run(ctx) {
      const shown = structuredClone(ctx.pillar);
      for (const [path, value] of ctx.secrets.declared()) {
        const user = path.split('.')[1]!;
        shown.users[user]!.password = (value === null ? '(generated)' : typeof value === 'string' ? '***' : value) as never;
      }
      ctx.log.print(stringify(shown));
    },
  }),
  defineTask({
    name: 'pillar:schema',
    description: 'Write pillar/pillar.schema.json (JSON Schema, for editor completion)',
    bare: true,
    async run({ log }) {
      await writeFile(SCHEMA_FILE, schemaJson());
      log.info(`wrote ${SCHEMA_FILE}`);
    },
  }),
];
