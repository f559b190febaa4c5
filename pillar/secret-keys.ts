// Which keys of a tree hold secrets, derived from its TypeBox schema: a schema
// marked `writeOnly` is a secret (the pillar's passwords and private key, and
// any plugin option schema that marks one). Nothing here is a list of names,
// so a new secret key is hidden in problems and masked in logs at once.
import type { TSchema } from '@sinclair/typebox';
import { isMapping } from './merge.ts';
import { joinPath } from './problems.ts';
import { schemaBelow, schemasAlong } from './schema-paths.ts';

/** What a problem says instead of a secret's value. */
export const HIDDEN = 'a value not shown here (secret)';

const isSecret = (schema: TSchema): boolean => schema.writeOnly === true;

/** The key path of the secret (writeOnly schema) that `path` is or lies under, if any. */
export function secretRoot(root: TSchema, path: string): string | undefined {
  const chain = schemasAlong(root, path);
  const index = chain.findIndex(isSecret);
  return index < 0 ? undefined : path.split('.').filter(Boolean).slice(0, index).join('.');
}

/** The schemas directly below `schema`: properties, record values, items, union variants. */
function subschemas(schema: TSchema): TSchema[] {
  return [
    ...Object.values((schema.properties ?? {}) as Record<string, TSchema>),
    ...Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>),
    ...((schema.anyOf ?? []) as TSchema[]),
    ...(schema.items && !Array.isArray(schema.items) ? [schema.items as TSchema] : []),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties as TSchema] : []),
  ];
}

/**
 * Whether a value checked against `schema` may hold a secret: the schema or one
 * below it is writeOnly. A value given in the wrong shape there (a password one
 * level too high, PEM text where a mapping belongs) is never quoted.
 */
export function holdsSecret(schema: TSchema): boolean {
  return isSecret(schema) || subschemas(schema).some(holdsSecret);
}

/**
 * Whether the value at `path` may be a secret, in any shape: it is at or under
 * a secret, or where a value holding one belongs (`users.admin`, `tls`).
 */
export function mayHoldSecret(root: TSchema, path: string): boolean {
  const chain = schemasAlong(root, path);
  return chain.length > 1 && (holdsSecret(chain.at(-1)!) || chain.some(isSecret));
}

/**
 * Whether a secret may be written as `{env: NAME}` or null (generated): the
 * secrets Secrets resolves. A private key takes PEM text or a file instead.
 */
export function isResolvableSecret(schema: TSchema): boolean {
  const variants = (schema.anyOf ?? [schema]) as TSchema[];
  return isSecret(schema) && variants.some((variant) => variant.type === 'null') && variants.some((variant) => variant.properties && Object.hasOwn(variant.properties, 'env'));
}

export interface SecretNode {
  /** Dotted key path (`users.admin.password`), under `base`. */
  path: string;
  value: unknown;
  schema: TSchema;
}

/** Every value of `tree` that its schema marks secret (writeOnly), with its key path. Pure. */
export function secretNodes(schema: TSchema, tree: unknown, base = ''): SecretNode[] {
  if (isSecret(schema)) return [{ path: base, value: tree, schema }];
  const entries: [string, unknown][] = Array.isArray(tree) ? tree.map((item, i) => [String(i), item]) : isMapping(tree) ? Object.entries(tree) : [];
  return entries.flatMap(([key, value]) => {
    const below = schemaBelow(schema, key);
    return below ? secretNodes(below, value, joinPath(base, key)) : [];
  });
}
