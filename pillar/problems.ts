import { UserError } from './user-error.ts';

// Pillar problems are collected, never thrown one by one: the user sees every
// bad key at once, each with its key path, what was expected and what was given.
export interface Problem {
  /** Dotted key path (`ports.http`, `binaries.registry.source.ref`), or '' for the whole file. */
  path: string;
  expected: string;
  given: string;
  /** The pillar file the offending value came from, when known. */
  file?: string;
  hint?: string;
}

export function formatProblem(problem: Problem): string {
  const where = problem.path || '(pillar)';
  const from = problem.file ? ` (from ${problem.file})` : '';
  const hint = problem.hint ? `; ${problem.hint}` : '';
  return `${where}${from}: expected ${problem.expected}, got ${problem.given}${hint}`;
}

export class PillarError extends UserError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(`invalid pillar (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.name = 'PillarError';
    this.problems = problems;
  }
}

/** A short, single-line rendering of a given value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function joinPath(base: string, key: string | number): string {
  return base === '' ? String(key) : `${base}.${key}`;
}
