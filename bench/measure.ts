// Timing helpers for the benchmarks: wall-clock seconds, best of n, ratios.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

export async function best(n: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, await seconds(fn));
  return min;
}

export function row(label: string, value: number, unit = 's'): string {
  return `${label.padEnd(52)} ${value.toFixed(2).padStart(8)} ${unit}`;
}

/** "x.xx× faster" when a < b. */
export function ratio(label: string, slow: number, fast: number): string {
  return `${label.padEnd(52)} ${(slow / fast).toFixed(2).padStart(8)} ×`;
}

/** True when the module is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(resolve(process.argv[1])).href;
}
