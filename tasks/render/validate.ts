// Validation of a staged configuration by the programs that will read it:
// nginx -t (on a copy that names the staged files), supervisord's own config
// loader (Debian's python3-supervisor: supervisord has no dry-run flag), sshd -t,
// and for circus the ini reader it uses. A failure quotes the tool's message
// with the staged file and line mapped back to the installed path, the plugin
// and template that wrote it, and the pillar keys whose values are on the line.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../../lib/context.ts';
import { UserError } from '../../lib/errors.ts';
import { certificateMatchesKey } from '../../lib/openssl.ts';
import type { Stack } from '../../plugins/stack.ts';
import type { StackFile } from './files.ts';

/** Debian's python3, which has python3-supervisor (the python3 first on PATH may be another). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Loads a supervisord.conf with supervisor's ServerOptions and prints each program's argv (split as supervisord splits it) and environment as JSON. */
export const SUPERVISOR_LOADER = `
import json, shlex, sys
from supervisor.options import ServerOptions
options = ServerOptions()
options.realize(args=['-c', sys.argv[1]])
print(json.dumps({p.name: {'argv': shlex.split(p.command), 'environment': p.environment} for g in options.process_group_configs for p in g.process_configs}))
`;

/**
 * circus's own loader (circus.config.get_config: includes, env sections,
 * watcher options), run with the python circusd runs on; each watcher needs a cmd.
 */
const CIRCUS_LOADER = `
import sys
from circus.config import get_config
for watcher in get_config(sys.argv[1])['watchers']:
    if not watcher.get('cmd'):
        sys.exit('watcher:' + watcher['name'] + ': no cmd')
`;

/** Without circus installed: the ini read as circus reads it (ConfigParser, % interpolation); each watcher needs a cmd. */
const CIRCUS_READER = `
import configparser, sys
parser = configparser.ConfigParser()
with open(sys.argv[1]) as f:
    parser.read_file(f)
for section in parser.sections():
    for key in parser[section]:
        parser[section][key]
    if section.startswith('watcher:') and 'cmd' not in parser[section]:
        sys.exit(section + ': no cmd')
`;

/** The python interpreter of the circusd on PATH (its #! line), or undefined when circus is not installed. */
async function circusPython(ctx: Context): Promise<string | undefined> {
  const found = await ctx.sh({ nothrow: true })`command -v circusd`;
  if (found.exitCode !== 0) return undefined;
  const shebang = (await readFile(found.stdout.trim(), 'utf8').catch(() => '')).split('\n')[0] ?? '';
  const python = /^#!\s*(\S+python\S*)\s*$/.exec(shebang)?.[1];
  return python && existsSync(python) ? python : undefined;
}

interface Staged {
  dir: string;
  etc: string;
  files: readonly StackFile[];
  /** The staged private files, and where they are installed. */
  privateDir: string;
  processSecrets: string;
}

/** Pillar keys whose value appears on a config line (never secret ones: those are not in the pillar as text). */
function pillarKeysOn(line: string, stack: Stack): string[] {
  const keys: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string' && value.length >= 4 && line.includes(value)) keys.push(path);
    else if (typeof value === 'number' && value >= 1000 && new RegExp(`\\b${value}\\b`).test(line)) keys.push(path);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk({ ...stack.pillar, users: undefined, binaries: undefined, publish: undefined, package: undefined }, '');
  return keys;
}

/** The staged file and line a message points at: "in FILE:LINE", or else the line holding a quoted value of the message. */
function locate(message: string, staged: Staged): { file: StackFile; line: number } | undefined {
  const escaped = staged.etc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const where = new RegExp(`${escaped}/([^\\s:"]+)(?::| line )(\\d+)`).exec(message);
  if (where) {
    const file = staged.files.find((f) => f.path === where[1]);
    return file && { file, line: Number(where[2]) };
  }
  for (const [, quoted] of message.matchAll(/"([^"]{4,})"/g)) {
    for (const file of staged.files) {
      if (file.secret) continue;
      const index = file.content.split('\n').findIndex((text) => text.includes(`"${quoted}"`));
      if (index >= 0) return { file, line: index + 1 };
    }
  }
  return undefined;
}

/** The tool's message, with staged paths shown as installed ones, and what wrote the failing line. */
async function explain(tool: string, output: string, staged: Staged, stack: Stack, extra: Record<string, string> = {}): Promise<UserError> {
  let message = output.trim();
  for (const [from, to] of Object.entries(extra)) message = message.split(from).join(to);
  message = message.split(staged.dir).join(staged.etc);
  const lines = [`render: ${tool} refused the staged configuration (nothing was installed):`, ...message.split('\n').map((l) => `  ${l}`)];
  const found = locate(message, staged);
  if (found) {
    const text = (found.file.content.split('\n')[found.line - 1] ?? '').trim();
    const keys = pillarKeysOn(text, stack);
    lines.push(`  ${found.file.path} line ${found.line}: ${text}`);
    lines.push(`  written by plugin "${found.file.owner}"${found.file.template ? ` from ${found.file.template}` : ''}${keys.length > 0 ? `; from pillar ${keys.join(', ')}` : ''}`);
  }
  return new UserError(lines.join('\n'));
}

/** The tool's own lines (a shell start-up file may print its own noise on stderr). */
const toolLines = (output: string, tool: string) => output.split('\n').filter((line) => line.startsWith(`${tool}:`)).join('\n') || output;

async function nginx(ctx: Context, staged: Staged, stack: Stack): Promise<void> {
  if (!staged.files.some((f) => f.path === 'nginx/nginx.conf')) return;
  const conf = join(staged.dir, 'nginx', 'nginx.conf');
  // The staged copy names the staged files (htpasswd, error pages, inline TLS).
  const testConf = `${staged.dir}.nginx-test.conf`;
  const text = (await readFile(conf, 'utf8')).split(`${staged.etc}/`).join(`${staged.dir}/`).split(`${staged.processSecrets}/`).join(`${staged.privateDir}/`);
  await writeFile(testConf, text, { mode: 0o600 });
  try {
    const out = await ctx.sh({ nothrow: true })`nginx -t -q -c ${testConf} -e ${join(stack.paths.log, 'nginx-error.log')}`;
    if (out.exitCode !== 0) throw await explain('nginx -t', toolLines(out.stderr || out.stdout, 'nginx'), staged, stack, { [testConf]: join(staged.etc, 'nginx', 'nginx.conf') });
  } finally {
    await rm(testConf, { force: true });
  }
}

async function supervisord(ctx: Context, staged: Staged, stack: Stack): Promise<void> {
  if (!staged.files.some((f) => f.path === 'supervisor/supervisord.conf')) return;
  const out = await ctx.sh({ nothrow: true })`${SYSTEM_PYTHON} -c ${SUPERVISOR_LOADER} ${join(staged.dir, 'supervisor', 'supervisord.conf')}`;
  if (out.exitCode !== 0) throw await explain(`supervisord's config loader (${SYSTEM_PYTHON}, python3-supervisor)`, out.stderr || out.stdout, staged, stack);
}

async function circus(ctx: Context, staged: Staged, stack: Stack): Promise<void> {
  if (!staged.files.some((f) => f.path === 'circus/circus.ini')) return;
  const file = join(staged.dir, 'circus', 'circus.ini');
  const python = await circusPython(ctx);
  const out = python
    ? await ctx.sh({ nothrow: true })`${python} -c ${CIRCUS_LOADER} ${file}`
    : await ctx.sh({ nothrow: true })`${SYSTEM_PYTHON} -c ${CIRCUS_READER} ${file}`;
  if (out.exitCode !== 0) throw await explain(python ? `circus's config loader (${python})` : "circus's ini reader (circus is not installed)", out.stderr || out.stdout, staged, stack);
}

async function sshd(ctx: Context, staged: Staged, stack: Stack): Promise<void> {
  if (!staged.files.some((f) => f.path === 'ssh/sshd_config')) return;
  const out = await ctx.sh({ nothrow: true })`/usr/sbin/sshd -t -f ${join(staged.dir, 'ssh', 'sshd_config')}`;
  if (out.exitCode !== 0) {
    const hint = /privilege separation directory/.test(out.stderr) ? '\n  (create it as the ssh service does: mkdir -p -m 0755 /run/sshd)' : '';
    throw await explain('sshd -t', `${out.stderr || out.stdout}${hint}`, staged, stack);
  }
}

/** Every file a config names exists; the token certificate matches its key. */
async function crossFiles(ctx: Context, stack: Stack): Promise<void> {
  const { pillar, tls, token } = stack;
  const named: [string, string][] = [];
  if (stack.processes.some((p) => p.value.name === 'nginx')) {
    const rendered = (file: string) => file.startsWith(`${stack.paths.etc}/`) || file.startsWith(`${stack.paths.processSecrets}/`);
    if (!rendered(tls.certificate)) named.push([tls.certificate, pillar.tls.cert === null ? 'tls.cert (null: the `ca` task\'s server.crt)' : 'tls.cert']);
    if (!rendered(tls.key)) named.push([tls.key, pillar.tls.key === null ? 'tls.key (null: the `ca` task\'s server.key)' : 'tls.key']);
  }
  const tokenMode = pillar.auth.mode === 'token';
  if (tokenMode) named.push([token.certificate, 'the token certificate (registry rootcertbundle, docker_auth token.certificate)'], [token.key, 'the token key (docker_auth token.key)']);
  const missing = named.filter(([file]) => !existsSync(file));
  if (missing.length > 0) {
    throw new UserError(`render: files the configuration names do not exist (run \`gulp ca\`, or set the pillar key):\n${missing.map(([file, what]) => `  - ${file}: ${what}`).join('\n')}`);
  }
  if (tokenMode && !(await certificateMatchesKey(ctx.sh, token.certificate, token.key))) {
    throw new UserError(`render: ${token.certificate} does not match ${token.key}: tokens signed by docker_auth would be refused by the registry (run \`gulp ca --force\`)`);
  }
}

export async function validateStaged(ctx: Context, staged: Staged, stack: Stack): Promise<void> {
  await nginx(ctx, staged, stack);
  await supervisord(ctx, staged, stack);
  await circus(ctx, staged, stack);
  await sshd(ctx, staged, stack);
  await crossFiles(ctx, stack);
}
