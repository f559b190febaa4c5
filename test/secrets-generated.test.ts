// Generated secrets (password: null): created once under {data_root}/secrets/
// with private modes, the same value on every later run, and one value even
// when several first runs race.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createContext } from '../lib/context.ts';
import { tempDir } from './helpers/tmp.ts';

const PATH = 'users.admin.password';

async function project(t: ExecutionContext) {
  const dir = await tempDir(t);
  const dataRoot = join(dir, 'data');
  await writeFile(join(dir, 'pillar.yml'), `data_root: ${dataRoot}\n`);
  // A separate context per call: what two separate runs of a task see.
  const run = async () => (await createContext({ cwd: dir, argv: ['--pillar', 'pillar.yml'], env: {}, logger: { err: () => {} } })).secrets;
  return { dataRoot, secretsDir: join(dataRoot, 'secrets'), run };
}

test('a generated secret is stored once with mode 0600 in a 0700 directory, and reused by a later run', async (t) => {
  const p = await project(t);
  const first = await (await p.run()).get(PATH);
  const second = await (await p.run()).get(PATH);
  t.is(second, first);
  t.regex(first, /^[A-Za-z0-9_-]{32}$/); // 24 random bytes, base64url
  t.is((await stat(join(p.secretsDir, PATH))).mode & 0o777, 0o600);
  t.is((await stat(p.secretsDir)).mode & 0o777, 0o700);
  t.deepEqual(await readdir(p.secretsDir), [PATH]);
});

test('loading the pillar alone generates nothing', async (t) => {
  const p = await project(t);
  const secrets = await p.run();
  await secrets.registerKnown();
  await t.throwsAsync(stat(p.dataRoot), { code: 'ENOENT' });
});

test('concurrent first runs agree on one value and leave no temporary files', async (t) => {
  const p = await project(t);
  const runs = await Promise.all(Array.from({ length: 16 }, () => p.run()));
  const values = await Promise.all(runs.map((secrets) => secrets.get(PATH)));
  t.is(new Set(values).size, 1, values.join(' '));
  t.deepEqual(await readdir(p.secretsDir), [PATH]);
  t.is(await (await p.run()).get(PATH), values[0]!);
});

test('a generated secret is masked in the log of the run that generated it and of later runs', async (t) => {
  const p = await project(t);
  const first = await createContext({ cwd: join(p.dataRoot, '..'), argv: ['--pillar', 'pillar.yml'], env: {}, logger: { err: () => {} } });
  const value = await first.secrets.get(PATH);
  t.is(first.log.mask(`password ${value}`), 'password ***');
  const later = await createContext({ cwd: join(p.dataRoot, '..'), argv: ['--pillar', 'pillar.yml'], env: {}, logger: { err: () => {} } });
  t.is(later.log.mask(`password ${value}`), 'password ***');
});
