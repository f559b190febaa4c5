// pillar/pillar.schema.json: generated from the schema in code by pillar:schema,
// committed, and usable by an editor (yaml-language-server, draft-07): only
// draft-07 keywords, patterns valid as unicode regexes, defaults.yml valid as
// written (with its {key} references), and injection still refused.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parse } from 'yaml';
import { DEFAULTS_FILE, loadPillar } from '../pillar/loader.ts';
import { createTasks } from '../tasks/index.ts';
import { schemaJson } from '../tasks/pillar.ts';
import { tempDir } from './helpers/tmp.ts';

const COMMITTED = fileURLToPath(new URL('../pillar/pillar.schema.json', import.meta.url));

type Schema = Record<string, unknown>;

/** The draft-07 keywords the generated schema may use; annotations are listed too. */
const KEYWORDS = new Set([
  '$schema', '$id', 'title', 'description', 'examples', 'writeOnly',
  'type', 'const', 'enum', 'anyOf', 'pattern', 'minLength', 'minimum', 'maximum', 'minItems', 'items',
  'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'required',
]);

/**
 * A small draft-07 validator for exactly those keywords, independent of TypeBox
 * (which checks through its own symbols, not the JSON): errors as JSON pointers.
 */
function jsonSchemaErrors(schema: Schema, value: unknown, at = ''): string[] {
  const fail = (why: string) => [`${at || '/'}: ${why}`];
  const type = schema.type as string | undefined;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const typeOk: Record<string, boolean> = {
    string: typeof value === 'string', boolean: typeof value === 'boolean', null: value === null, object: isObject,
    array: Array.isArray(value), number: typeof value === 'number', integer: Number.isInteger(value),
  };
  if (type && !typeOk[type]) return fail(`not ${type}`);
  if ('const' in schema && schema.const !== value) return fail(`not ${JSON.stringify(schema.const)}`);
  if (schema.anyOf) {
    const variants = (schema.anyOf as Schema[]).map((s) => jsonSchemaErrors(s, value, at));
    return variants.some((v) => v.length === 0) ? [] : fail(`no variant matches (${variants.flat().join('; ')})`);
  }
  const errors: string[] = [];
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern as string, 'u').test(value)) errors.push(...fail(`does not match ${schema.pattern}`));
    if (schema.minLength !== undefined && value.length < (schema.minLength as number)) errors.push(...fail('too short'));
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < (schema.minimum as number)) errors.push(...fail('below minimum'));
    if (schema.maximum !== undefined && value > (schema.maximum as number)) errors.push(...fail('above maximum'));
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < (schema.minItems as number)) errors.push(...fail('too few items'));
    if (schema.items) value.forEach((item, i) => errors.push(...jsonSchemaErrors(schema.items as Schema, item, `${at}/${i}`)));
  }
  if (isObject) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) errors.push(...fail(`missing ${key}`));
    for (const [key, item] of Object.entries(object)) {
      const path = `${at}/${key}`;
      if (schema.propertyNames) errors.push(...jsonSchemaErrors(schema.propertyNames as Schema, key, `${path} (key)`));
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).filter(([p]) => new RegExp(p, 'u').test(key));
      if (Object.hasOwn(properties, key)) errors.push(...jsonSchemaErrors(properties[key]!, item, path));
      for (const [, s] of patterns) errors.push(...jsonSchemaErrors(s, item, path));
      if (!Object.hasOwn(properties, key) && patterns.length === 0) {
        if (schema.additionalProperties === false) errors.push(`${path}: unknown key`);
        else if (typeof schema.additionalProperties === 'object') errors.push(...jsonSchemaErrors(schema.additionalProperties as Schema, item, path));
      }
    }
  }
  return errors;
}

/** Every keyword used anywhere in the schema (property names of `properties` are not keywords). */
function keywords(schema: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => keywords(s, found));
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      found.add(key);
      if (key === 'properties' || key === 'patternProperties') Object.values(value as object).forEach((s) => keywords(s, found));
      else if (key !== 'examples' && key !== 'const') keywords(value, found);
    }
  }
  return found;
}

const committed = async () => JSON.parse(await readFile(COMMITTED, 'utf8')) as Schema;

test('the committed pillar/pillar.schema.json is the schema in code (run `gulp pillar:schema` if not)', async (t) => {
  t.is(await readFile(COMMITTED, 'utf8'), schemaJson());
});

test('pillar:schema writes pillar/pillar.schema.json under the project', async (t) => {
  const dir = await tempDir(t);
  let log = '';
  const tasks = await createTasks({ cwd: dir, env: {}, pillar: [{ data_root: join(dir, 'data') }], logger: { err: (s) => (log += s) } });
  await tasks['pillar:schema']!();
  t.is(await readFile(join(dir, 'pillar/pillar.schema.json'), 'utf8'), schemaJson());
  t.regex(log, /wrote .*pillar\/pillar\.schema\.json/);
});

test('the schema is draft-07 with only keywords an editor validates, and its patterns are unicode regexes', async (t) => {
  const schema = await committed();
  t.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  t.deepEqual([...keywords(schema)].filter((k) => !KEYWORDS.has(k)), []);
  const patterns: string[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'pattern') patterns.push(value as string);
        if (key === 'patternProperties') patterns.push(...Object.keys(value as object));
        collect(value);
      }
    }
  };
  collect(schema);
  t.true(patterns.length > 20);
  for (const pattern of patterns) t.notThrows(() => new RegExp(pattern, 'u'), pattern);
});

test('defaults.yml as written, a partial file and the resolved pillar all validate against the JSON schema', async (t) => {
  const schema = await committed();
  t.deepEqual(jsonSchemaErrors(schema, parse(await readFile(DEFAULTS_FILE, 'utf8'))), []);
  // A user's file is a partial overlay: no key is required.
  t.deepEqual(jsonSchemaErrors(schema, { domain: 'registry.internal', binaries: { registry: { source: { ref: 'v2.8.3' } } } }), []);
  const { pillar } = await loadPillar({ cwd: '/nonexistent', env: {} });
  t.deepEqual(jsonSchemaErrors(schema, JSON.parse(JSON.stringify(pillar))), []);
});

// The editor flags what the runtime check refuses (the JSON schema is no looser for plain values).
const REFUSED: [string, object, string][] = [
  ['injection in a domain', { domain: 'a.example.com; return 200' }, '/domain'],
  ['a newline in an alias', { server_aliases: ['a.example.com\nx'] }, '/server_aliases/0'],
  ['an unknown key', { registy: {} }, '/registy'],
  ['a bad binary name key', { binaries: { 'evil;rm': {} } }, '/binaries/evil;rm (key)'],
  ['a branch ref', { binaries: { registry: { source: { ref: 'main' } } } }, '/binaries/registry/source/ref'],
  ['a wrong type', { ports: { http: '80' } }, '/ports/http'],
];

for (const [what, value, pointer] of REFUSED) {
  test(`the JSON schema refuses ${what}`, async (t) => {
    const errors = jsonSchemaErrors(await committed(), value);
    t.true(errors.some((e) => e.startsWith(`${pointer}:`)), errors.join('\n'));
  });
}
