// Salt semantics: mappings merge deeply, sequences and scalars replace. The
// merge records which file each key path came from, for error messages.
import { joinPath } from './problems.ts';

export type Tree = Record<string, unknown>;

export function isMapping(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property, even one named `__proto__` (which plain assignment would turn into a prototype change). */
function setOwn(tree: Tree, key: string, value: unknown): void {
  Object.defineProperty(tree, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Merges `over` into `base`. `replaces(path)` names mappings that are one of
 * several shapes ({recipe: ...} or {image: ...}): those are replaced whole,
 * since merging one shape into another would hold both.
 */
export function deepMerge(
  base: Tree,
  over: Tree,
  file: string,
  origins: Map<string, string>,
  path = '',
  replaces: (path: string) => boolean = () => false,
): Tree {
  const merged: Tree = {};
  for (const [key, value] of Object.entries(base)) setOwn(merged, key, value);
  for (const [key, value] of Object.entries(over)) {
    const keyPath = joinPath(path, key);
    const current = Object.hasOwn(merged, key) ? merged[key] : undefined;
    if (isMapping(current) && isMapping(value) && !replaces(keyPath)) {
      setOwn(merged, key, deepMerge(current, value, file, origins, keyPath, replaces));
    } else {
      setOwn(merged, key, value);
      // The whole value is this file's now: forget where replaced keys below came from.
      for (const known of origins.keys()) if (known.startsWith(`${keyPath}.`)) origins.delete(known);
      origins.set(keyPath, file);
    }
  }
  return merged;
}

/** The file a key path's value came from: the nearest recorded ancestor. */
export function originOf(origins: Map<string, string>, path: string): string | undefined {
  for (let p = path; ; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
    const file = origins.get(p);
    if (file || p === '') return file;
  }
}

/**
 * Rebuilds a tree: `visit` returns a node's replacement, or undefined to go on
 * into it (mappings and lists are rebuilt, other leaves kept).
 */
export function mapTree(node: unknown, visit: (node: unknown, path: string) => unknown, path = ''): unknown {
  const replaced = visit(node, path);
  if (replaced !== undefined) return replaced;
  if (Array.isArray(node)) return node.map((item, i) => mapTree(item, visit, joinPath(path, i)));
  if (isMapping(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapTree(v, visit, joinPath(path, k))]));
  return node;
}
