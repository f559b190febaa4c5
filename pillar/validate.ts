// Runtime check of a merged, resolved pillar against the schema, turned into
// problems a person can act on: dotted key path, expected, given, did-you-mean.
// Values at secret paths (schemas marked writeOnly) are never echoed.
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { didYouMean } from './suggest.ts';
import { describeValue, type Problem } from './problems.ts';
import { schemaAt, schemasAlong } from './schema-paths.ts';
import { HIDDEN, holdsSecret, secretRoot } from './secret-keys.ts';

const dotted = (pointer: string) => pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

function expectedOf(schema: TSchema, error: ValueError): string {
  if (schema.title) return schema.title;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map((s) => s.title ?? (s.const !== undefined ? JSON.stringify(s.const) : s.type)).join(' | ');
  if (schema.type === 'integer' && (schema.minimum !== undefined || schema.maximum !== undefined)) return `integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'object') return 'a mapping';
  if (schema.type === 'array') return 'a list';
  return error.message.replace(/^Expected /, '');
}

/**
 * Whether the value at `path` is one of several mapping shapes ({recipe} or
 * {image}): a file choosing the other shape replaces it instead of merging into it.
 */
export function isChoice(root: TSchema, path: string): boolean {
  return ((schemaAt(root, path)?.anyOf as TSchema[] | undefined)?.filter((s) => s.type === 'object').length ?? 0) > 1;
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
  // Where a secret belongs, a value of the wrong shape is the secret misplaced.
  return [{ path, expected: expectedOf(error.schema, error), given: holdsSecret(error.schema) ? HIDDEN : describeValue(error.value) }];
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
