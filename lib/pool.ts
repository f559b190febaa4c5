// Runs fn over items with at most `limit` at a time; every item runs to the end
// (a failure does not cancel the others, whose finished work lands in the caches).
import { availableParallelism } from 'node:os';
import { UserError } from './errors.ts';

export const CORES = availableParallelism();

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index]!, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Several failures as one error: their messages, one a line. */
const joinMessages = (errors: Error[]): Error => new UserError(errors.map((e) => e.message).join('\n'));

/** The values; a single failure is thrown as it is, several are combined into one error. */
export function settledValues<R>(results: PromiseSettledResult<R>[], combine: (errors: Error[]) => Error = joinMessages): R[] {
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw combine(failures);
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
