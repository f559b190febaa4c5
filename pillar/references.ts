// `{key}` references inside pillar strings, resolved after the merge. A reference
// names a dotted key path holding a scalar; cycles and unknown keys are problems.
import { didYouMean } from './suggest.ts';
import { isMapping, mapTree, type Tree } from './merge.ts';
import { describeValue, joinPath, type Problem } from './problems.ts';
import { HIDDEN } from './secret-keys.ts';

const REFERENCE = /\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}/g;

/** Placeholders the build step fills in, left alone under binaries.*.build. */
const BUILD_PLACEHOLDERS = new Set(['version', 'commit']);
const isBuildString = (path: string) => /^binaries\.[^.]+\.build\./.test(path);

function lookup(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (!isMapping(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function keyPaths(tree: Tree, base = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const path = joinPath(base, key);
    return isMapping(value) ? [path, ...keyPaths(value, path)] : [path];
  });
}

export interface Resolved {
  tree: Tree;
  problems: Problem[];
  /** Paths whose strings could not be resolved (their problem, or a referenced key's, is reported). */
  failed: Set<string>;
  /** Path → the key paths its string referenced, for messages about derived values. */
  uses: Map<string, string[]>;
}

/**
 * Resolves `{key}` references. Strings at secret paths (`isSecret`) are left as
 * they are — a password may hold braces. A key that may hold a secret in any
 * shape (`mayHoldSecret`: a password one level too high, say) may not be
 * referenced, so a secret never lands in an ordinary value that is shown, and
 * its text is never quoted in a problem.
 */
export function resolveReferences(tree: Tree, isSecret: (path: string) => boolean = () => false, mayHoldSecret: (path: string) => boolean = isSecret): Resolved {
  const problems: Problem[] = [];
  const uses = new Map<string, string[]>();
  const resolved = new Map<string, string>();
  const failed = new Set<string>();
  let allPaths: string[] | undefined;
  const shown = (path: string, text: string) => (mayHoldSecret(path) ? HIDDEN : describeValue(text));

  // Resolves the string at `path`; `stack` is the chain of paths being resolved.
  const resolveString = (path: string, text: string, stack: string[]): string | undefined => {
    const done = resolved.get(path);
    if (done !== undefined) return done;
    if (failed.has(path)) return undefined;
    if (stack.includes(path)) {
      const cycle = [...stack.slice(stack.indexOf(path)), path];
      problems.push({ path, expected: 'references without a cycle', given: cycle.map((p) => `{${p}}`).join(' -> ') });
      cycle.forEach((p) => failed.add(p));
      return undefined;
    }
    let ok = true;
    const result = text.replace(REFERENCE, (whole, name: string) => {
      if (isBuildString(path) && BUILD_PLACEHOLDERS.has(name)) return whole;
      uses.set(path, [...(uses.get(path) ?? []), name]);
      if (mayHoldSecret(name)) {
        problems.push({ path, expected: 'a reference to a key that is not a secret', given: shown(path, text), hint: `{${name}} is a secret; use {env: NAME} or a secret of its own` });
        ok = false;
        return whole;
      }
      const target = lookup(tree, name);
      if (target === undefined) {
        allPaths ??= keyPaths(tree);
        const suggestion = didYouMean(name, allPaths);
        const build = isBuildString(path) ? '; only {version} and {commit} are filled in at build time' : '';
        problems.push({ path, expected: 'a reference to an existing key', given: shown(path, text), hint: `unknown key {${name}}${suggestion ? `, ${suggestion}` : ''}${build}` });
        ok = false;
        return whole;
      }
      if (typeof target === 'string') {
        const value = resolveString(name, target, [...stack, path]);
        if (value === undefined) ok = false;
        return value ?? whole;
      }
      if (typeof target === 'number' || typeof target === 'boolean') return String(target);
      problems.push({ path, expected: 'a reference to a string, number or boolean', given: shown(path, text), hint: `{${name}} is ${target === null ? 'null' : Array.isArray(target) ? 'a list' : 'a mapping'}` });
      ok = false;
      return whole;
    });
    if (!ok) {
      failed.add(path);
      return undefined;
    }
    resolved.set(path, result);
    return result;
  };

  const out = mapTree(tree, (node, path) => {
    if (path !== '' && isSecret(path)) return node;
    if (typeof node === 'string') return resolveString(path, node, []) ?? node;
    return undefined;
  }) as Tree;
  return { tree: out, problems, failed, uses };
}
