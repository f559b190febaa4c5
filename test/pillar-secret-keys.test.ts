// Secrets derived from the schema (issue 14 point 5, issue 7 point 8): a key a
// schema marks writeOnly is a secret wherever it is (the pillar, a test schema,
// a plugin's options), masked in logs and never quoted in a problem, also when
// its value is given in the wrong shape or one level too high.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import test, { type ExecutionContext } from 'ava';
import { createContext } from '../lib/context.ts';
import { Logger } from '../lib/logger.ts';
import { PillarSchema } from '../pillar/schema.ts';
import { secretNodes } from '../pillar/secret-keys.ts';
import { Secrets } from '../pillar/secrets.ts';
import { PrivatePemSource, Secret } from '../pillar/types.ts';
import { createTasks } from '../tasks/index.ts';
import { tempDir } from './helpers/tmp.ts';

const WEBHOOK_PLUGIN = fileURLToPath(new URL('fixtures/plugins/webhook.ts', import.meta.url));

const TestSchema = Type.Object({
  name: Type.String(),
  api: Type.Object({ token: Secret, url: Type.String() }),
  signing: Type.Array(Type.Object({ key: PrivatePemSource })),
  vault: Type.Record(Type.String(), Type.Object({ passphrase: Secret })),
});

test('secretNodes: every writeOnly value of a tree with its key path, from the schema alone', (t) => {
  const tree = {
    name: 'not-a-secret',
    api: { token: 'api-token-value', url: 'https://x' },
    signing: [{ key: null }, { key: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' }],
    vault: { a: { passphrase: { env: 'VAULT_A' } } },
  };
  t.deepEqual(secretNodes(TestSchema, tree).map(({ path, value }) => [path, value]), [
    ['api.token', 'api-token-value'],
    ['signing.0.key', null],
    ['signing.1.key', tree.signing[1]!.key],
    ['vault.a.passphrase', { env: 'VAULT_A' }],
  ]);
  // The pillar's own secrets come from its schema too: users' passwords and the private key.
  t.deepEqual(secretNodes(PillarSchema, { users: { admin: { password: null } }, tls: { cert: null, key: null }, domain: 'x' }).map((n) => n.path), ['users.admin.password', 'tls.key']);
});

test('a new secret key in a test schema is masked in logs, and get() resolves it', async (t) => {
  let err = '';
  const log = new Logger({ err: (s) => (err += s), out: (s) => (err += s) });
  const dir = await tempDir(t);
  const ctx = await createContext({ cwd: dir, env: {}, argv: ['--pillar', await pillar(dir, '')], logger: { err: () => {} } });
  const secrets = new Secrets(ctx.pillar, { VAULT_A: 'vault-A-passphrase' }, log);
  await secrets.addTree(TestSchema, { name: 'n', api: { token: 'api-token-value', url: 'u' }, signing: [], vault: { a: { passphrase: { env: 'VAULT_A' } } } }, 'extra');
  log.info('token api-token-value, passphrase vault-A-passphrase');
  t.is(err, 'token ***, passphrase ***\n');
  t.is(await secrets.get('extra.vault.a.passphrase'), 'vault-A-passphrase');
  t.true(secrets.declared().has('extra.api.token'));
});

async function pillar(dir: string, yaml: string): Promise<string> {
  const file = join(dir, 'p.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\nplugins: [${relative(dir, WEBHOOK_PLUGIN)}]\n${yaml}`);
  return file;
}

async function run(t: ExecutionContext, yaml: string, task: string, env: NodeJS.ProcessEnv = {}) {
  const dir = await tempDir(t);
  const file = await pillar(dir, yaml);
  let all = '';
  const capture = { err: (s: string) => (all += s), out: (s: string) => (all += s) };
  try {
    const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file, '--verbose'], env: { PATH: process.env.PATH, ...env }, logger: capture });
    await tasks[task]!();
    return { all, error: undefined };
  } catch (error) {
    return { all: `${all}\n${(error as Error).message}\n${(error as Error).stack}`, error: error as Error };
  }
}

test("a plugin's option schema declares secrets: masked in its log, its zx echo and its error, resolved by ctx.secrets", async (t) => {
  const { all, error } = await run(t, 'plugins_config:\n  webhook: {token: "webhook-T0ken-literal", auth: {user: hook, secret: {env: HOOK_SECRET}}}\n', 'webhook:send', { HOOK_SECRET: 'hook-S3cret-from-env' });
  t.is(error, undefined, all);
  t.regex(all, /sending with \*\*\* as \{"user":"hook","secret":\{"env":"HOOK_SECRET"\}\} \/ \*\*\*/);
  t.regex(all, /^\$ echo \*\*\*$/m, all);
  for (const secret of ['webhook-T0ken-literal', 'hook-S3cret-from-env']) t.false(all.includes(secret), all);
});

/** [what, pillar YAML, key path of the problem, the secret that must not show]. */
const MISPLACED: [string, string, string, string][] = [
  ['a password one level too high (mis-indented)', 'users:\n  admin:\n  password: hunter2-misplaced\n', 'users.password', 'hunter2-misplaced'],
  ['users given as a list of passwords', 'users: [{password: hunter2-in-a-list}]\n', 'users', 'hunter2-in-a-list'],
  ['a PEM key where the tls mapping belongs', 'tls: "-----BEGIN PRIVATE KEY-----\\nMIIsecretPEMbody0123\\n-----END PRIVATE KEY-----"\n', 'tls', 'MIIsecretPEMbody0123'],
  ['a reference to a misplaced password', 'users:\n  admin:\n  password: hunter2-referenced\ndomain: "{users.password}.example.com"\n', 'domain', 'hunter2-referenced'],
  ["a plugin's secret one level too high", 'plugins_config:\n  webhook: {auth: hunter2-plugin-flat}\n', 'auth', 'hunter2-plugin-flat'],
  ["a plugin's secret of the wrong type", 'plugins_config:\n  webhook: {token: [hunter2-plugin-list]}\n', 'token', 'hunter2-plugin-list'],
];

for (const [what, yaml, path, secret] of MISPLACED) {
  test(`a problem never quotes a value where a secret belongs: ${what}`, async (t) => {
    const { all, error } = await run(t, yaml, 'pillar:check');
    t.truthy(error, all);
    t.regex(error!.message, new RegExp(`(?:^|[\\s.])${path.replace(/\./g, '\\.')}(?: \\(from [^)]+\\))?: expected `, 'm'), error!.message);
    t.false(all.includes(secret), all);
    t.false(all.includes(secret.slice(0, 10)), all);
  });
}

test('a private key given as {file: PATH} is masked in logs with the file content, line by line', async (t) => {
  const dir = await tempDir(t);
  const body = 'a2V5LWZpbGUtYm9keS1vbmx5LWluLXRoZS1maWxl';
  await writeFile(join(dir, 'server.key'), `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`);
  let err = '';
  const ctx = await createContext({ cwd: dir, env: {}, argv: ['--pillar', await pillar(dir, `tls: {key: {file: ${join(dir, 'server.key')}}}\n`)], logger: { err: (s) => (err += s), out: (s) => (err += s) } });
  ctx.log.info(`read ${body}`);
  t.is(err, 'read ***\n');
});
