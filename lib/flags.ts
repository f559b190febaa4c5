// Command-line flags shared by every task. gulp-cli leaves its own flags in
// process.argv too, so unknown options are ignored rather than refused.
import { parseArgs } from 'node:util';
import { UserError } from './errors.ts';

export interface Flags {
  pillar: string[];
  only: string[];
  target?: 'local' | 'github';
  dryRun: boolean;
  verbose: boolean;
  quiet: boolean;
  /** Accept a tag that now resolves to another commit than corpus.lock.json says. */
  repin: boolean;
  /** ca: start over (a new CA, server certificate and token key pair). */
  force: boolean;
  /** up: return once healthy, leaving the supervisor running. */
  detach: boolean;
  /** status: machine-readable output. */
  json: boolean;
  /** image:dev: an interactive shell instead of the launcher. */
  shell: boolean;
  /** image:dev: build the image even when the dev tag exists; image:build: ignore the layer cache. */
  rebuild: boolean;
}

/** Flag help shown by `gulp --tasks`, per flag name. */
export const FLAG_HELP = {
  pillar: '--pillar FILE: pillar file merged over the defaults (repeatable)',
  only: '--only NAME[,NAME]: limit the build steps to these binaries',
  target: '--target local|github: publish target (default: publish.target)',
  dryRun: '--dry-run: print the plan, change nothing',
  verbose: '--verbose: log every command (secrets masked)',
  repin: '--repin: accept tags that moved since corpus.lock.json was written',
  force: '--force: start over (a new CA, server certificate and token key pair)',
  detach: '--detach: return once the stack is healthy, leaving it running (stop it with gulp down)',
  json: '--json: print JSON for scripts',
  shell: '--shell: an interactive shell in the container instead of the launcher',
  rebuild: '--rebuild: image:dev: build the image even when {image.name}:{image.dev_tag} exists; image:build: every layer above the base again, ignoring the layer cache',
} as const;

export function parseFlags(argv: readonly string[] = process.argv.slice(2)): Flags {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    options: {
      pillar: { type: 'string', multiple: true },
      only: { type: 'string', multiple: true },
      target: { type: 'string' },
      'dry-run': { type: 'boolean' },
      verbose: { type: 'boolean' },
      quiet: { type: 'boolean' },
      silent: { type: 'boolean' },
      repin: { type: 'boolean' },
      force: { type: 'boolean' },
      detach: { type: 'boolean' },
      json: { type: 'boolean' },
      shell: { type: 'boolean' },
      rebuild: { type: 'boolean' },
    },
  });
  const strings = (value: unknown): string[] =>
    (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');
  const target = values.target;
  if (target !== undefined && target !== 'local' && target !== 'github') {
    throw new UserError(`--target: expected local or github, got ${JSON.stringify(target)}`);
  }
  return {
    pillar: strings(values.pillar),
    only: strings(values.only).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean),
    target,
    dryRun: values['dry-run'] === true,
    verbose: values.verbose === true,
    quiet: values.quiet === true || values.silent === true,
    repin: values.repin === true,
    force: values.force === true,
    detach: values.detach === true,
    json: values.json === true,
    shell: values.shell === true,
    rebuild: values.rebuild === true,
  };
}
