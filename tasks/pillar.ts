// pillar:check, pillar:show, pillar:schema.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { scrubUrls } from '../pillar/credentials.ts';
import { isMapping, mapTree } from '../pillar/merge.ts';
import { PillarSchema } from '../pillar/schema.ts';
import { secretRoot } from '../pillar/secret-keys.ts';
import { defineTask } from './task.ts';

/** Where pillar:schema writes, relative to the project (this repository commits its copy). */
export const SCHEMA_PATH = join('pillar', 'pillar.schema.json');

/** A `{key}` reference: pillar files hold them unresolved, so editors must accept them. */
const REFERENCE_PATTERN = '\\{[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z0-9_-]+)*\\}';

/**
 * The schema as editors see pillar files (yaml-language-server): each file is a
 * partial overlay merged over the defaults, so no key is required, and a typed
 * string may hold a `{key}` reference, which only the runtime check resolves.
 * Everything else (types, patterns, unknown keys) is PillarSchema as is.
 */
function editorSchema(schema: TSchema = PillarSchema): object {
  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (!isMapping(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'required') continue;
      if (key === 'propertyNames') { // keys hold no references
        out[key] = value;
        continue;
      }
      out[key] = key === 'pattern' && node.type === 'string' ? `(?:${value as string})|${REFERENCE_PATTERN}` : convert(value);
    }
    return out;
  };
  const { $id, ...rest } = convert(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id, ...rest };
}

/** The schema as committed in pillar/pillar.schema.json. */
export function schemaJson(): string {
  return `${JSON.stringify(editorSchema(), null, 2)}\n`;
}

/** The pillar with every secret value replaced: generated ones say so, others show ***. */
function maskedPillar(pillar: unknown, generated: ReadonlySet<string>): unknown {
  return mapTree(pillar, (node, path) => {
    if (path !== '' && secretRoot(PillarSchema, path) === path) {
      if (node === null) return generated.has(path) ? '(generated)' : null;
      return typeof node === 'string' ? '***' : node; // {env: NAME} and {file: PATH} name no secret
    }
    // Not secrets in the schema, but any URL may carry a token (https://TOKEN@host/...).
    if (typeof node === 'string') return scrubUrls(node);
    return undefined;
  });
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
      const generated = new Set([...ctx.secrets.declared()].filter(([, value]) => value === null).map(([path]) => path));
      ctx.log.print(stringify(maskedPillar(ctx.pillar, generated)));
    },
  }),
  defineTask({
    name: 'pillar:schema',
    description: 'Write pillar/pillar.schema.json (JSON Schema, for editor completion); --stdout prints it instead',
    bare: true,
    flags: ['stdout'],
    async run({ cwd, log }, flags) {
      if (flags.stdout) return log.print(schemaJson());
      const file = join(cwd, SCHEMA_PATH);
      await mkdir(join(cwd, 'pillar'), { recursive: true });
      await writeFile(file, schemaJson());
      log.info(`wrote ${file}`);
    },
  }),
];
