// Runtime check of a merged, resolved pillar against the schema, turned into
// problems a person can act on: dotted key path, expected, given, did-you-mean.
import type { TObject, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { didYouMean } from '../lib/suggest.ts';
import { describeValue, type Problem } from './problems.ts';

const dotted = (pointer: string) => pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

function expectedOf(schema: TSchema, error: ValueError): string {
  if (schema.title) return schema.title;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map((s) => s.title ?? (s.const !== undefined ? JSON.stringify(s.const) : s.type)).join(' | ');
  if (schema.type === 'integer' && (schema.minimum !== undefined || schema.maximum !== undefined)) return `integer from ${schema.minimum} to ${schema.maximum}`;
  return error.message.replace(/^Expected /, '');
}

/** Keys an object schema allows, for did-you-mean; none for records. */
function allowedKeys(schema: TSchema | undefined): string[] {
  return schema && schema.type === 'object' && schema.properties ? Object.keys((schema as TObject).properties) : [];
}

function parentSchema(root: TSchema, path: string): TSchema | undefined {
  let node: TSchema | undefined = root;
  for (const key of path.split('.').slice(0, -1).filter(Boolean)) {
    if (!node) return undefined;
    if (node.properties?.[key]) node = node.properties[key];
    else if (node.patternProperties) node = Object.values(node.patternProperties)[0] as TSchema;
    else return undefined;
  }
  return node;
}

function toProblems(root: TSchema, error: ValueError): Problem[] {
  const path = dotted(error.path);
  // For a union, report the variant that came closest (fewest errors).
  if (error.type === ValueErrorType.Union && error.errors.length > 0) {
    const variants = error.errors.map((iterator) => [...iterator]);
    const typeMatched = variants.filter((v) => v.length > 0 && v.every((e) => e.path !== error.path));
    const best = (typeMatched.length > 0 ? typeMatched : []).sort((a, b) => a.length - b.length)[0];
    if (best) return best.flatMap((e) => toProblems(root, e));
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const key = path.split('.').pop() ?? path;
    return [{ path, expected: 'no such key', given: `unknown key "${key}"`, hint: didYouMean(key, allowedKeys(parentSchema(root, path))) }];
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return [{ path, expected: `key "${path.split('.').pop()}" (${expectedOf(error.schema, error)})`, given: 'nothing' }];
  }
  return [{ path, expected: expectedOf(error.schema, error), given: describeValue(error.value) }];
}

export function validate(schema: TSchema, value: unknown): Problem[] {
  const problems = [...Value.Errors(schema, value)].flatMap((error) => toProblems(schema, error));
  // A required-key error and a type error can both name one path: keep the first.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.expected}\0${p.given}`;
    return !seen.has(key) && seen.add(key);
  });
}
