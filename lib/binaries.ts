// The binaries a build step works on: enabled, not replaced by an installed
// `path`, and limited by --only (an unknown name there is an error, not a no-op).
import type { BinaryConfig } from '../pillar/schema.ts';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';
import { didYouMean } from './suggest.ts';

export interface SelectedBinary {
  name: string;
  config: BinaryConfig;
}

/** Every binary the release holds, whatever --only says. */
export function releaseBinaries(ctx: Context): SelectedBinary[] {
  return Object.entries(ctx.pillar.binaries)
    .filter(([, config]) => config.enabled !== false && !config.path)
    .map(([name, config]) => ({ name, config }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function selectedBinaries(ctx: Context): SelectedBinary[] {
  const all = releaseBinaries(ctx);
  if (ctx.flags.only.length === 0) return all;
  const names = new Set(all.map((b) => b.name));
  const unknown = ctx.flags.only.filter((name) => !names.has(name));
  if (unknown.length > 0) {
    const hints = unknown.map((name) => {
      const why = ctx.pillar.binaries[name] ? 'disabled or replaced by binaries.' + name + '.path' : didYouMean(name, names) ?? 'no such binary';
      return `"${name}" (${why})`;
    });
    throw new UserError(`--only: ${hints.join(', ')}; binaries to build: ${[...names].join(', ') || 'none'}`);
  }
  return all.filter((b) => ctx.flags.only.includes(b.name));
}

/** `{version}` and `{commit}` filled into a build string. */
export function expand(template: string, values: { version: string; commit: string }): string {
  return template.replace(/\{(version|commit)\}/g, (_, key: 'version' | 'commit') => values[key]);
}
