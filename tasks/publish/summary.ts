// What publish prints on stdout: the plan (--dry-run) and the summary table.
import type { Outcome, PlanStep } from './types.ts';

export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function planText(description: string, steps: readonly PlanStep[]): string {
  const changes = steps.filter((s) => s.action !== 'skip').length;
  const rows = steps.map((s) => [s.action, s.name, s.reason]);
  return `publish plan for ${description} (dry run: nothing changed; ${changes} change${changes === 1 ? '' : 's'}):\n${table(['action', 'name', 'why'], rows)}`;
}

export function summaryText(description: string, outcomes: readonly Outcome[]): string {
  const rows = outcomes.map((o) => [o.name, humanSize(o.size), o.sha256.slice(0, 12), o.action, o.url]);
  return `published to ${description}:\n${table(['asset', 'size', 'sha256', 'action', 'url'], rows)}`;
}
