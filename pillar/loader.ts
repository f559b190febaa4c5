// Loads the pillar: defaults.yml, then pillar/local.yml (if present), then
// PILLAR, then each --pillar FILE, merged in that order; then `{key}`
// references are resolved and the result is checked against the schema.
// Every problem of every file is collected before anything is reported.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { deepMerge, isMapping, originOf, type Tree } from './merge.ts';
import { PillarError, type Problem } from './problems.ts';
import { resolveReferences } from './references.ts';
import { PillarSchema, type Pillar } from './schema.ts';
import { validate } from './validate.ts';

export const DEFAULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'defaults.yml');
/** Larger pillar files are refused: a pillar is configuration, not data. */
export const MAX_PILLAR_BYTES = 1024 * 1024;
/** Aliases beyond this count are refused (YAML "billion laughs"). */
export const MAX_ALIASES = 100;

export interface PillarInput {
  cwd: string;
  /** --pillar files, in order, relative to cwd. */
  files?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** In-code overrides merged last (a consumer gulpfile's own settings). */
  overrides?: readonly Tree[];
}

export interface LoadedPillar {
  pillar: Pillar;
  /** The files merged, in order (defaults first). */
  sources: string[];
}

/** The files that make up the pillar for this run, in merge order. */
export function pillarFiles(input: PillarInput): string[] {
  const local = join(input.cwd, 'pillar', 'local.yml');
  const fromEnv = (input.env ?? process.env).PILLAR;
  return [
    DEFAULTS_FILE,
    ...(existsSync(local) ? [local] : []),
    ...(fromEnv ? fromEnv.split(':').filter(Boolean) : []),
    ...(input.files ?? []),
  ].map((file) => resolve(input.cwd, file));
}

export async function readPillarFile(file: string): Promise<{ tree?: Tree; problems: Problem[] }> {
  const problem = (expected: string, given: string): { problems: Problem[] } => ({ problems: [{ path: '', file, expected, given }] });
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    return problem('a readable pillar file', (error as NodeJS.ErrnoException).code ?? String(error));
  }
  if (size > MAX_PILLAR_BYTES) return problem(`a pillar file of at most ${MAX_PILLAR_BYTES} bytes`, `${size} bytes`);
  const doc = parseDocument(await readFile(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((e) => ({ path: '', file, expected: 'valid YAML', given: e.message.split('\n')[0] ?? e.code })) };
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

/** Merges and resolves without the schema check (for reading `plugins:` early). */
export async function mergePillar(input: PillarInput): Promise<{ tree: Tree; sources: string[]; problems: Problem[]; origins: Map<string, string> }> {
  const sources = pillarFiles(input);
  const origins = new Map<string, string>();
  const problems: Problem[] = [];
  let tree: Tree = {};
  for (const file of sources) {
    const read = await readPillarFile(file);
    problems.push(...read.problems);
    if (read.tree) tree = deepMerge(tree, read.tree, file, origins);
  }
  for (const [i, override] of (input.overrides ?? []).entries()) tree = deepMerge(tree, override, `overrides[${i}]`, origins);
  return { tree, sources, problems, origins };
}

export async function loadPillar(input: PillarInput): Promise<LoadedPillar> {
  const merged = await mergePillar(input);
  if (merged.problems.length > 0) throw new PillarError(merged.problems);
  const { tree, problems: referenceProblems } = resolveReferences(merged.tree);
  const referenced = new Set(referenceProblems.map((p) => p.path));
  const problems = [...referenceProblems, ...validate(PillarSchema, tree).filter((p) => !referenced.has(p.path))].map((p) => ({
    ...p,
    file: p.file ?? originOf(merged.origins, p.path),
  }));
  if (problems.length > 0) throw new PillarError(problems);
  return { pillar: tree as Pillar, sources: merged.sources };
}
