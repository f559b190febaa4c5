// Command-line flags, parsed strictly. A task declares the flags it reads; the
// command line may hold those, the flags of the other tasks it names, and
// gulp-cli's own. Anything else is an error with a did-you-mean, and a flag
// that needs a value never swallows the next argument.
//
// Adding a flag to the kit: one entry in KIT_FLAGS, and its key in SWITCHES (a
// switch) or its field in Flags, filled in kitFlags() (a flag with a value); a
// task takes it by listing its key in `flags`.
import { isAbsolute, resolve } from 'node:path';
import { UserError } from './errors.ts';
import { closest } from './suggest.ts';

/** One flag as a task declares it. */
export interface FlagSpec {
  /** Its value as `gulp --tasks` shows it ("FILE"); without one, the flag is a switch. */
  value?: string;
  help: string;
  /** The only values allowed. */
  choices?: readonly string[];
  /** Given more than once, every value is kept, in order. */
  multiple?: boolean;
  /** A path, resolved against the directory the user ran the command from. */
  path?: boolean;
}

/** Flag specs by command-line name ("dry-run" for --dry-run). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed values by command-line name: a switch is true, a flag with a value is its string (or strings if multiple). */
export type FlagValues = Readonly<Record<string, string | readonly string[] | true | undefined>>;

/** The switches tasks read through Flags: true when given (what each does: its help in KIT_FLAGS). */
const SWITCHES = ['dryRun', 'verbose', 'repin', 'force', 'detach', 'json', 'shell', 'rebuild'] as const;
type Switch = (typeof SWITCHES)[number];

export interface Flags extends Record<Switch, boolean> {
  pillar: string[];
  only: string[];
  target?: 'local' | 'github';
  /** --quiet, or gulp's own --silent. */
  quiet: boolean;
}

/** The kit's flags, keyed as tasks list them; `name` is the command-line spelling. */
export const KIT_FLAGS = {
  pillar: { name: 'pillar', value: 'FILE', multiple: true, path: true, help: 'pillar file merged over the defaults (repeatable)' },
  only: { name: 'only', value: 'NAME[,NAME]', multiple: true, help: 'limit the build steps to these binaries' },
  target: { name: 'target', value: 'local|github', choices: ['local', 'github'], help: 'publish target (default: publish.target)' },
  dryRun: { name: 'dry-run', help: 'print the plan, change nothing' },
  verbose: { name: 'verbose', help: 'log every command (secrets masked)' },
  quiet: { name: 'quiet', help: 'log warnings and errors only' },
  repin: { name: 'repin', help: 'accept tags that moved since corpus.lock.json was written' },
  stdout: { name: 'stdout', help: 'print to stdout instead of writing the file' },
  force: { name: 'force', help: 'ca: start over (a new CA, server certificate and token key pair); release: run every step even when nothing changed' },
  detach: { name: 'detach', help: 'return once the stack is healthy (up), or run the container in the background (image:run)' },
  json: { name: 'json', help: 'print JSON for scripts' },
  shell: { name: 'shell', help: 'an interactive shell in the container instead of the launcher' },
  rebuild: { name: 'rebuild', help: 'image:dev: build the image even when {image.name}:{image.dev_tag} exists; image:build: every layer above the base again, ignoring the layer cache' },
} as const satisfies Record<string, FlagSpec & { name: string }>;

export type FlagName = keyof typeof KIT_FLAGS;

/** Flags every task that loads the pillar takes. */
export const COMMON_FLAGS: readonly FlagName[] = ['pillar', 'verbose', 'quiet'];

export function kitFlagSpecs(names: Iterable<FlagName>): Record<string, FlagSpec> {
  return Object.fromEntries([...names].map((key) => [KIT_FLAGS[key].name, KIT_FLAGS[key]]));
}

/**
 * gulp-cli's own options (which stay in process.argv): name -> whether it takes
 * a value. `--no-respawning` is what gulp-cli adds when it re-spawns node.
 */
const GULP_CLI_FLAGS: Readonly<Record<string, boolean>> = {
  help: false, h: false, version: false, v: false, preload: true, gulpfile: true, f: true, cwd: true,
  tasks: false, T: false, 'tasks-simple': false, 'tasks-json': false, 'tasks-depth': true, depth: true,
  'compact-tasks': false, 'sort-tasks': false, color: false, silent: false, S: false, continue: false,
  series: false, 'log-level': false, L: false, LL: false, LLL: false, LLLL: false, respawning: false,
};

export interface ParsedArgv {
  values: FlagValues;
  /** The task names given. */
  tasks: string[];
  /** gulp-cli's --silent (-S): the kit logs quietly too. */
  silent: boolean;
}

/** The flag syntax gulp's task list shows: "--pillar FILE". */
export function flagUsage(name: string, spec: FlagSpec): string {
  return `--${name}${spec.value ? ` ${spec.value}` : ''}`;
}

/**
 * Parses `argv` against `specs` and gulp-cli's options. `--name value`,
 * `--name=value` and, for a switch, `--no-name` are accepted.
 */
export function parseArgv(argv: readonly string[], specs: FlagSpecs, userDir: string): ParsedArgv {
  const values: Record<string, string | string[] | true> = {};
  const tasks: string[] = [];
  let silent = false;
  const known = [...Object.keys(specs), ...Object.keys(GULP_CLI_FLAGS)];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      tasks.push(arg);
      continue;
    }
    if (arg === '--') {
      tasks.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    const raw = (eq === -1 ? arg : arg.slice(0, eq)).replace(/^--?/, '');
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const negated = raw.startsWith('no-') && !(raw in specs) ? raw.slice(3) : undefined;
    const name = negated ?? raw;
    const spec = specs[name];
    if (!spec) {
      const takesValue = GULP_CLI_FLAGS[name];
      if (takesValue === undefined) {
        const hint = closest(name, known);
        throw new UserError(`unknown flag ${arg.replace(/=.*$/, '')}${hint ? ` (did you mean --${hint}?)` : ''}`);
      }
      if (takesValue && inline === undefined) i++; // gulp-cli checks the value itself
      if (name === 'silent' || name === 'S') silent = !negated;
      continue;
    }
    if (!spec.value) {
      if (inline !== undefined) throw new UserError(`--${name} takes no value (given "${inline}")`);
      if (negated) delete values[name];
      else values[name] = true;
      continue;
    }
    if (negated) throw new UserError(`unknown flag ${arg} (--${name} takes a value: ${flagUsage(name, spec)})`);
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new UserError(`--${name} needs a value: ${flagUsage(name, spec)}`);
      value = next;
      i++;
    }
    if (value === '') throw new UserError(`--${name} needs a value: ${flagUsage(name, spec)}`);
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UserError(`--${name}: expected ${spec.choices.join(' or ')}, got ${JSON.stringify(value)}`);
    }
    if (spec.path && !isAbsolute(value)) value = resolve(userDir, value);
    const previous = values[name];
    values[name] = spec.multiple ? [...(Array.isArray(previous) ? previous : []), value] : value;
  }
  return { values, tasks, silent };
}

/** The kit's flags from the parsed command line. */
export function kitFlags({ values, silent }: Pick<ParsedArgv, 'values' | 'silent'>): Flags {
  const strings = (name: string): string[] => {
    const value = values[name];
    return typeof value === 'string' ? [value] : Array.isArray(value) ? [...value] : [];
  };
  const switches = Object.fromEntries(SWITCHES.map((key) => [key, values[KIT_FLAGS[key].name] === true])) as Record<Switch, boolean>;
  return {
    ...switches,
    pillar: strings('pillar'),
    only: strings('only').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean),
    target: values.target as Flags['target'],
    quiet: values.quiet === true || silent,
  };
}

/** Parses the kit's flags only (a context created outside a task, as tests and scripts do). */
export function parseFlags(argv: readonly string[], userDir: string): Flags {
  return kitFlags(parseArgv(argv, kitFlagSpecs(Object.keys(KIT_FLAGS) as FlagName[]), userDir));
}

/**
 * A plugin task's flags, declared as gulp shows them ("--port PORT": "help"):
 * a flag with a placeholder takes a value, "a|b" lists its choices, and one
 * without is a switch.
 */
export function flagsFromUsage(flags: Readonly<Record<string, string>>, what: string): Record<string, FlagSpec> {
  const specs: Record<string, FlagSpec> = {};
  for (const [usage, help] of Object.entries(flags)) {
    const match = /^--([a-z][a-z0-9-]*)(?: ([^\s]+))?$/.exec(usage);
    if (!match) throw new UserError(`${what}: flag "${usage}" must look like "--name" or "--name VALUE"`);
    const [, name, value] = match as unknown as [string, string, string | undefined];
    const choices = value && /^[a-z0-9-]+(?:\|[a-z0-9-]+)+$/.test(value) ? value.split('|') : undefined;
    specs[name] = { help, ...(value ? { value } : {}), ...(choices ? { choices } : {}) };
  }
  return specs;
}

/**
 * The --pillar files of a command line, read before the tasks (and so their
 * flags) are known: plugins listed in them add tasks. The task's own parse
 * checks the whole command line strictly.
 */
export function pillarFilesOf(argv: readonly string[], userDir: string): string[] {
  const files = argv.flatMap((arg, i) => {
    if (arg.startsWith('--pillar=')) return [arg.slice('--pillar='.length)];
    const next = argv[i + 1];
    return arg === '--pillar' && next !== undefined && !next.startsWith('-') ? [next] : [];
  });
  return files.filter(Boolean).map((file) => resolve(userDir, file));
}
