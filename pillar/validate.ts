// Runtime check of a merged, resolved pillar against the schema, turned into
// problems a person can act on: dotted key path, expected, given, did-you-mean.
// Values at secret paths (schemas marked writeOnly) are never echoed.
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { didYouMean } from '../lib/suggest.ts';
import { describeValue, type Problem } from './problems.ts';

const dotted = (pointer: string) => pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

/** What a problem says instead of a secret's value. */
export const HIDDEN = 'a value not shown here (secret)';

function expectedOf(schema: TSchema, error: ValueError): string {
  if (schema.title) return schema.title;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map((s) => s.title ?? (s.const !== undefined ? JSON.stringify(s.const) : s.type)).join(' | ');
  if (schema.type === 'integer' && (schema.minimum !== undefined || schema.maximum !== undefined)) return `integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'object') return 'a mapping';
  if (schema.type === 'array') return 'a list';
  return error.message.replace(/^Expected /, '');
}

/** The schema one key below `node`: a property, a record's value, an item, or the object variants of a union. */
function child(node: TSchema, key: string): TSchema | undefined {
  if (node.anyOf) {
    const variants = (node.anyOf as TSchema[]).map((variant) => child(variant, key)).filter((s): s is TSchema => s !== undefined);
    return variants[0];
  }
  if (node.properties && Object.hasOwn(node.properties, key)) return node.properties[key] as TSchema;
  if (node.patternProperties) {
    const entry = Object.entries(node.patternProperties as Record<string, TSchema>).find(([pattern]) => new RegExp(pattern).test(key));
    return entry?.[1];
  }
  if (node.type === 'array' && node.items && /^\d+$/.test(key)) return node.items as TSchema;
  return undefined;
}

/** The schemas from the root down along a dotted key path, as far as the schema knows the keys. */
export function schemasAlong(root: TSchema, path: string): TSchema[] {
  const chain = [root];
  for (const key of path.split('.').filter(Boolean)) {
    const next = child(chain.at(-1)!, key);
    if (!next) break;
    chain.push(next);
  }
  return chain;
}

/** The key path of the secret (writeOnly schema) that `path` is or lies under, if any. */
export function secretRoot(root: TSchema, path: string): string | undefined {
  const chain = schemasAlong(root, path);
  const index = chain.findIndex((schema) => schema.writeOnly === true);
  return index < 0 ? undefined : path.split('.').filter(Boolean).slice(0, index).join('.');
}

/**
 * Whether the value at `path` is one of several mapping shapes ({recipe} or
 * {image}): a file choosing the other shape replaces it instead of merging into it.
 */
export function isChoice(root: TSchema, path: string): boolean {
  return ((schemaAt(root, path)?.anyOf as TSchema[] | undefined)?.filter((s) => s.type === 'object').length ?? 0) > 1;
}

/** The schema of exactly `path`, or undefined where the schema does not know every key on the way. */
function schemaAt(root: TSchema, path: string): TSchema | undefined {
  const chain = schemasAlong(root, path);
  return chain.length === path.split('.').filter(Boolean).length + 1 ? chain.at(-1) : undefined;
}

const parentOf = (path: string) => path.split('.').slice(0, -1).join('.');

/** Keys allowed in the mapping at `path` (every variant of a union), for did-you-mean. */
function allowedKeys(root: TSchema, path: string): string[] {
  const parent = schemaAt(root, parentOf(path));
  if (!parent) return [];
  const objects = parent.anyOf ? (parent.anyOf as TSchema[]) : [parent];
  return objects.flatMap((s) => Object.keys(s.properties ?? {}));
}

function recordKeyTitle(root: TSchema, path: string): string | undefined {
  const parent = schemaAt(root, parentOf(path));
  return parent?.patternProperties ? ((parent.propertyNames as TSchema | undefined)?.title ?? `a key matching ${Object.keys(parent.patternProperties).join(' or ')}`) : undefined;
}

/** Errors that are about the shape (a key missing or unknown) rather than a value. */
const structural = (e: ValueError) => e.type === ValueErrorType.ObjectRequiredProperty || e.type === ValueErrorType.ObjectAdditionalProperties;

function toProblems(root: TSchema, error: ValueError): Problem[] {
  const path = dotted(error.path);
  // For a union, report the variant that came closest: its type matched, and
  // it has the fewest missing/unknown keys, then the fewest errors.
  if (error.type === ValueErrorType.Union && error.errors.length > 0) {
    const variants = error.errors.map((iterator) => [...iterator]);
    const typeMatched = variants.filter((v) => v.length > 0 && v.every((e) => e.path !== error.path));
    const score = (v: ValueError[]) => v.filter(structural).length * 1000 + v.length;
    const best = typeMatched.sort((a, b) => score(a) - score(b))[0];
    if (best) return best.flatMap((e) => toProblems(root, e));
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const key = path.split('.').pop() ?? path;
    const keyTitle = recordKeyTitle(root, path);
    if (keyTitle) return [{ path, expected: `a key that is a ${keyTitle}`, given: `key ${JSON.stringify(key)}` }];
    return [{ path, expected: 'no such key', given: `unknown key "${key}"`, hint: didYouMean(key, allowedKeys(root, path)) }];
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return [{ path, expected: `key "${path.split('.').pop()}" (${expectedOf(error.schema, error)})`, given: 'nothing' }];
  }
  // A missing key also fails its type check: the required-key problem says it once.
  if (error.value === undefined) return [];
  return [{ path, expected: expectedOf(error.schema, error), given: describeValue(error.value) }];
}

/** A problem at or under a secret keeps its key path (up to the secret) but never shows the value. */
function hideSecret(root: TSchema, problem: Problem): Problem {
  const secret = secretRoot(root, problem.path);
  if (secret === undefined) return problem;
  const { hint: _hint, ...rest } = problem;
  // An unknown key under a secret may itself be the secret, mistyped: name the secret's path only.
  if (!schemaAt(root, problem.path)) return { ...rest, path: secret, expected: schemasAlong(root, problem.path).at(-1)?.title ?? rest.expected, given: HIDDEN };
  return { ...rest, given: HIDDEN };
}

export function validate(schema: TSchema, value: unknown): Problem[] {
  const problems = [...Value.Errors(schema, value)].flatMap((error) => toProblems(schema, error)).map((p) => hideSecret(schema, p));
  // A required-key error and a type error can both name one path: keep the first.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.expected}\0${p.given}`;
    return !seen.has(key) && seen.add(key);
  });
}
