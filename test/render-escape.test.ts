// One escaping function per target syntax: a table of what each writes and what
// each refuses; and a supervisord environment value with spaces, %, quotes and =
// read back unchanged by supervisord's own config loader.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { circusValue, logrotatePath, nginxQuote, redisQuote, registryEnvValue, sshdValue, supervisorQuote } from '../plugins/render/escape.ts';
import { SUPERVISOR_LOADER, SYSTEM_PYTHON } from '../tasks/render/validate.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

type Escape = (value: string) => string;
const WRITES: [string, Escape, string, string][] = [
  ['nginx', nginxQuote, '/srv/a b', '"/srv/a b"'],
  ['nginx', nginxQuote, 'say "hi"\\', '"say \\"hi\\"\\\\"'],
  ['nginx', nginxQuote, 'a;b{c}', '"a;b{c}"'],
  ['supervisor', supervisorQuote, 'a b%c', '"a b%%c"'],
  ['supervisor', supervisorQuote, 'say "hi"=1', `'say "hi"=1'`],
  ['supervisor', supervisorQuote, "it's", `"it's"`],
  ['supervisor', supervisorQuote, 'a;b#c', '"a;b#c"'],
  ['circus', circusValue, '50% off', '50%% off'],
  ['sshd', sshdValue, '/srv/keys', '/srv/keys'],
  ['sshd', sshdValue, '/srv/my keys', '"/srv/my keys"'],
  ['sshd', sshdValue, 'a#b', '"a#b"'],
  ['redis', redisQuote, 'p"w\\d', '"p\\"w\\\\d"'],
  ['logrotate', logrotatePath, '/srv/log/x.log', '"/srv/log/x.log"'],
  ['registry env', registryEnvValue, 'a: b # "c"', '"a: b # \\"c\\""'],
  ['registry env', registryEnvValue, 'del\x7f c1\x85', '"del\\u007f c1\\u0085"'],
];

for (const [syntax, escape, value, written] of WRITES) {
  test(`${syntax} writes ${JSON.stringify(value)} as ${written}`, (t) => {
    t.is(escape(value), written);
  });
}

const REFUSES: [string, Escape, string, RegExp][] = [
  ['nginx', nginxQuote, 'a\nreturn 200;', /control characters/],
  ['nginx', nginxQuote, '$host', /nginx expands \$/],
  ['supervisor', supervisorQuote, 'a ;comment', /starts a comment/],
  ['supervisor', supervisorQuote, 'x #comment', /starts a comment/],
  ['supervisor', supervisorQuote, 'a\n[program:x]', /control characters/],
  ['supervisor', supervisorQuote, `both ' and "`, /both kinds of quotes/],
  ['supervisor', supervisorQuote, 'back\\slash', /backslash/],
  ['supervisor (verbatim)', (v) => supervisorQuote(v, false), '/srv/a b', /read verbatim/],
  ['circus', circusValue, ' padded', /whitespace/],
  ['circus', circusValue, '$HOME', /expands \$/],
  ['sshd', sshdValue, 'a"b', /no escape for "/],
  ['sshd', sshdValue, 'a\nPermitRootLogin yes', /control characters/],
  ['redis', redisQuote, 'a\nrequirepass x', /control characters/],
  ['logrotate', logrotatePath, '/x { postrotate', /open a block/],
];

for (const [syntax, escape, value, why] of REFUSES) {
  test(`${syntax} refuses ${JSON.stringify(value)}`, (t) => {
    const error = t.throws(() => escape(value));
    t.regex(error!.message, why);
  });
}

// What the registry does with an environment override: yaml.Unmarshal into a string field.
for (const value of ['a: b # c', '- x', '{x: 1}', 'null', '123', '~', 'yes', `it's "quoted" \\ and\ttabbed`, '  padded  ', 'del\x7f and c1\x85\x9f']) {
  test(`the registry's environment reads ${JSON.stringify(value)} back as written`, (t) => {
    t.is(parse(registryEnvValue(value)), value);
  });
}

test("supervisord's own loader reads back an environment value with spaces, %, quotes and = unchanged", async (t) => {
  requireCommands(SYSTEM_PYTHON, 'supervisord');
  const dir = await tempDir(t);
  const values = { SPACES: 'a b  c', PERCENT: '100% of %(here)s', QUOTES: 'say "hi" = ok', SINGLE: "it's=1,2", HASH: 'a#b;c' };
  const environment = Object.entries(values).map(([k, v]) => `${k}=${supervisorQuote(v)}`).join(',');
  const conf = join(dir, 'supervisord.conf');
  await writeFile(conf, `[supervisord]\nlogfile=${dir}/s.log\npidfile=${dir}/s.pid\n[program:x]\ncommand=${supervisorQuote('/bin/echo')} ${supervisorQuote('50%')}\nenvironment=${environment}\n`);
  const read = JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', SUPERVISOR_LOADER, conf], { encoding: 'utf8' })) as Record<string, { argv: string[]; environment: Record<string, string> }>;
  t.deepEqual(read.x!.environment, values);
  t.deepEqual(read.x!.argv, ['/bin/echo', '50%']);
});
