// Loads the pillar: defaults.yml, then the caller's code pillar (createTasks'
// `pillar`, then its `pillarFiles`), then pillar/local.yml (if present), then
// PILLAR, then each --pillar FILE, merged in that order; then `{key}`
// references are resolved and the result is checked against the schema.
// Every problem of every file is collected before anything is reported.
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageFile } from './package-root.ts';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { deepMerge, isMapping, originOf, type Tree } from './merge.ts';
import { PillarError, joinPath, type Problem } from './problems.ts';
import { resolveReferences } from './references.ts';
import { PillarSchema, type Pillar } from './schema.ts';
import { mayHoldSecret, secretRoot } from './secret-keys.ts';
import { isChoice, validate } from './validate.ts';

export const DEFAULTS_FILE = packageFile('pillar', 'defaults.yml');
/** Larger pillar files are refused: a pillar is configuration, not data. */
export const MAX_PILLAR_BYTES = 1024 * 1024;
/** Aliases beyond this count are refused (YAML "billion laughs"). */
export const MAX_ALIASES = 100;

export interface PillarInput {
  cwd: string;
  /** --pillar files, in order, relative to cwd. */
  files?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The caller's code pillar (a consumer gulpfile's settings): over the defaults, under every file. */
  code?: readonly Tree[];
  /** Pillar files named in code (relative to cwd), merged right after the code pillar. */
  codeFiles?: readonly string[];
}

export interface LoadedPillar {
  pillar: Pillar;
  /** The files merged, in order (defaults first). */
  sources: string[];
  /** The file (or override) a key path's value came from. */
  originOf(path: string): string | undefined;
}

/** The files PILLAR names (colon-separated), resolved from `cwd`. */
export function envPillarFiles(cwd: string, env: NodeJS.ProcessEnv): string[] {
  return (env.PILLAR ?? '').split(':').filter(Boolean).map((file) => resolve(cwd, file));
}

/** The files that make up the pillar for this run, in merge order. */
export function pillarFiles(input: PillarInput): string[] {
  const local = join(input.cwd, 'pillar', 'local.yml');
  return [
    DEFAULTS_FILE,
    ...(input.codeFiles ?? []),
    ...(existsSync(local) ? [local] : []),
    ...envPillarFiles(input.cwd, input.env ?? process.env),
    ...(input.files ?? []),
  ].map((file) => resolve(input.cwd, file));
}

/**
 * At most `limit` bytes of a file, pipe or device (`<(cat big.yml)`, /dev/zero),
 * reading one byte more to tell "too large" without reading the rest; a stat
 * size means nothing for a pipe.
 */
async function readBounded(file: string, limit: number): Promise<{ text: string } | { tooLarge: true }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > limit ? { tooLarge: true } : { text: buffer.toString('utf8', 0, length) };
  } finally {
    await handle.close();
  }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'a directory',
  EACCES: 'a file this user may not read',
  ELOOP: 'a symbolic link loop',
  ENOTDIR: 'a path through something that is not a directory',
};

async function readPillarFile(file: string): Promise<{ tree?: Tree; problems: Problem[] }> {
  const problem = (expected: string, given: string): { problems: Problem[] } => ({ problems: [{ path: '', file, expected, given }] });
  let read: Awaited<ReturnType<typeof readBounded>>;
  try {
    read = await readBounded(file, MAX_PILLAR_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const given = code ? `${code}${READ_ERRORS[code] ? ` (${READ_ERRORS[code]})` : ''}` : (error as Error).message.split('\n')[0]!;
    return problem('a readable pillar file', given);
  }
  if ('tooLarge' in read) return problem(`a pillar file of at most ${MAX_PILLAR_BYTES} bytes`, 'more');
  const { text } = read;
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // A duplicate key is named by its key path, which the YAML message lacks.
    const duplicates = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(parseDocument(text, { uniqueKeys: false })) : [];
    return {
      problems: [
        ...duplicates.map((path) => ({ path, file, expected: 'each key once in a mapping', given: `key "${path.split('.').pop()}" more than once` })),
        ...doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY' || duplicates.length === 0)
          .map((e) => ({ path: '', file, expected: 'valid YAML', given: e.message.split('\n')[0] ?? e.code })),
      ],
    };
  }
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return problem(`YAML with at most ${MAX_ALIASES} alias expansions`, (error as Error).message);
  }
  if (tree === null || tree === undefined) return { tree: {}, problems: [] };
  if (!isMapping(tree)) return problem('a mapping of pillar keys at the top level', Array.isArray(tree) ? 'a sequence' : typeof tree);
  return { tree, problems: [] };
}

/** Key paths given twice in one mapping. */
function duplicateKeys(doc: Document): string[] {
  const found: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const keyPath = joinPath(path, key);
        if (seen.has(key)) found.push(keyPath);
        seen.add(key);
        walk(pair.value, keyPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, joinPath(path, i)));
    }
  };
  walk(doc.contents, '');
  return found;
}

/** How messages name a tree of the caller's code pillar. */
const codeOrigin = (index: number, count: number) => `createTasks({ pillar${count > 1 ? `[${index}]` : ''} }) in your code`;

/** Reads and merges the files in order, recording which file each key came from. */
async function mergePillar(input: PillarInput): Promise<{ tree: Tree; sources: string[]; problems: Problem[]; origins: Map<string, string> }> {
  const sources = pillarFiles(input);
  const origins = new Map<string, string>();
  const problems: Problem[] = [];
  let tree: Tree = {};
  const replaces = (path: string) => isChoice(PillarSchema, path);
  for (const file of sources) {
    const read = await readPillarFile(file);
    problems.push(...read.problems);
    if (read.tree) tree = deepMerge(tree, read.tree, file, origins, '', replaces);
    if (file === DEFAULTS_FILE) {
      for (const [i, code] of (input.code ?? []).entries()) tree = deepMerge(tree, code, codeOrigin(i, input.code!.length), origins, '', replaces);
    }
  }
  return { tree, sources, problems, origins };
}

export async function loadPillar(input: PillarInput): Promise<LoadedPillar> {
  const merged = await mergePillar(input);
  if (merged.problems.length > 0) throw new PillarError(merged.problems);
  const resolved = resolveReferences(
    merged.tree,
    (path) => secretRoot(PillarSchema, path) !== undefined,
    (path) => mayHoldSecret(PillarSchema, path),
  );
  const checked = validate(PillarSchema, resolved.tree);
  const own = new Set([...resolved.problems, ...checked].map((p) => p.path));
  const uses = (path: string) => resolved.uses.get(path) ?? [];
  // A value that could not be resolved, or was built from a key with a problem
  // of its own, adds nothing: the root cause is reported once.
  const derived = checked
    .filter((p) => !resolved.failed.has(p.path) && !uses(p.path).some((name) => own.has(name)))
    .map((p) => (uses(p.path).length > 0 ? { ...p, hint: [p.hint, `built from ${uses(p.path).map((n) => `{${n}}`).join(', ')}`].filter(Boolean).join('; ') } : p));
  const problems = [...resolved.problems, ...derived].map((p) => ({
    ...p,
    file: p.file ?? originOf(merged.origins, p.path),
  }));
  if (problems.length > 0) throw new PillarError(problems);
  return { pillar: resolved.tree as Pillar, sources: merged.sources, originOf: (path) => originOf(merged.origins, path) };
}
