// Walking a TypeBox schema along a dotted key path (`users.admin.password`):
// what the schema says about the value at a path, as far as it knows the keys.
import type { TSchema } from '@sinclair/typebox';

/** The schema one key below `node`: a property, a record's value, an item, or the object variants of a union. */
export function schemaBelow(node: TSchema, key: string): TSchema | undefined {
  if (node.anyOf) {
    const variants = (node.anyOf as TSchema[]).map((variant) => schemaBelow(variant, key)).filter((s): s is TSchema => s !== undefined);
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
    const next = schemaBelow(chain.at(-1)!, key);
    if (!next) break;
    chain.push(next);
  }
  return chain;
}

/** The schema of exactly `path`, or undefined where the schema does not know every key on the way. */
export function schemaAt(root: TSchema, path: string): TSchema | undefined {
  const chain = schemasAlong(root, path);
  return chain.length === path.split('.').filter(Boolean).length + 1 ? chain.at(-1) : undefined;
}
