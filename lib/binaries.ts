// The binaries a build step works on: enabled, not replaced by an installed
// `path`, and limited by --only (an unknown name there is an error, not a no-op).
// The selection is made and checked once per run, in the build steps' defaults;
// the steps then read it from the context.
import type { BinaryConfig } from '../pillar/schema.ts';
import type { Context } from './context.ts';
import { UserError } from './errors.ts';
import { didYouMean } from './suggest.ts';

export interface SelectedBinary {
  name: string;
  config: BinaryConfig;
}

export interface Selection {
  /** Every binary the release holds, whatever --only says. */
  release: SelectedBinary[];
  /** The binaries this run builds (--only). */
  selected: SelectedBinary[];
}

/** The release's binaries and the ones --only picks; throws on a name --only cannot pick. */
export function selectBinaries(ctx: Pick<Context, 'pillar' | 'flags'>): Selection {
  const release = Object.entries(ctx.pillar.binaries)
    .filter(([, config]) => config.enabled !== false && !config.path)
    .map(([name, config]) => ({ name, config }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const only = ctx.flags.only;
  if (only.length === 0) return { release, selected: release };
  const names = new Set(release.map((b) => b.name));
  const unknown = only.filter((name) => !names.has(name));
  if (unknown.length > 0) {
    const hints = unknown.map((name) => {
      const why = ctx.pillar.binaries[name] ? 'disabled or replaced by binaries.' + name + '.path' : didYouMean(name, names) ?? 'no such binary';
      return `"${name}" (${why})`;
    });
    throw new UserError(`--only: ${hints.join(', ')}; binaries to build: ${[...names].join(', ') || 'none'}`);
  }
  return { release, selected: release.filter((b) => only.includes(b.name)) };
}

/** The defaults of every build step: the selection, made (and --only checked) by the first of them. */
export function selectOnce(ctx: Context): void {
  ctx.selection ??= selectBinaries(ctx);
}

/** The run's selection (the build steps' defaults made it). */
export function selection(ctx: Context): Selection {
  if (!ctx.selection) throw new Error('the binaries were not selected: a build step ran without its defaults');
  return ctx.selection;
}

/** The skip of every build step. */
export const nothingSelected = (ctx: Context): string | false => (selection(ctx).selected.length === 0 ? 'no binaries to build' : false);

/** The logger for one binary's lines: the one way they are prefixed ("[registry] ..."). */
export const binaryLog = (ctx: Pick<Context, 'log'>, name: string) => ctx.log.child(`[${name}]`);

/** `{version}` and `{commit}` filled into a build string. */
export function expand(template: string, values: { version: string; commit: string }): string {
  return template.replace(/\{(version|commit)\}/g, (_, key: 'version' | 'commit') => values[key]);
}
