// Salt semantics: mappings merge deeply, sequences and scalars replace. The
// merge records which file each key path came from, for error messages.
import { joinPath } from './problems.ts';

export type Tree = Record<string, unknown>;

export function isMapping(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Tree, over: Tree, file: string, origins: Map<string, string>, path = ''): Tree {
  const merged: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const keyPath = joinPath(path, key);
    const current = merged[key];
    if (isMapping(current) && isMapping(value)) {
      merged[key] = deepMerge(current, value, file, origins, keyPath);
    } else {
      merged[key] = value;
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
