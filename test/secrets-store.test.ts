// The store of generated secrets (issue 7 point 12): {data_root}/secrets is
// private whatever it was before (a wider mode of the user's own directory is
// narrowed to 0700; another user's directory or a symlink is refused), and an
// empty stored secret is a clear error naming the file and how to regenerate it.
import { chmod, chown, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createContext } from '../lib/context.ts';
import { tempDir } from './helpers/tmp.ts';

const PATH = 'users.admin.password';

async function project(t: ExecutionContext) {
  const dir = await tempDir(t);
  const dataRoot = join(dir, 'data');
  await writeFile(join(dir, 'pillar.yml'), `data_root: ${dataRoot}\n`);
  let log = '';
  const context = () => createContext({ cwd: dir, argv: ['--pillar', 'pillar.yml'], env: {}, logger: { err: (s) => (log += s), out: (s) => (log += s) } });
  return { secretsDir: join(dataRoot, 'secrets'), dataRoot, context, log: () => log };
}

test('an existing secrets directory with mode 0777 is set to 0700 before a secret is stored in it', async (t) => {
  const p = await project(t);
  await mkdir(p.secretsDir, { recursive: true, mode: 0o777 });
  await chmod(p.secretsDir, 0o777); // whatever the umask
  await (await p.context()).secrets.get(PATH);
  t.is((await stat(p.secretsDir)).mode & 0o777, 0o700);
  t.is((await stat(join(p.secretsDir, PATH))).mode & 0o777, 0o600);
  t.regex(p.log(), /secrets had mode 0777; set to 0700/);
});

test('a secrets directory of another user is refused, naming it, and nothing is written in it', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('prerequisite missing: this test chowns a directory to another user, so it runs as root (as CI does)');
  const p = await project(t);
  await mkdir(p.secretsDir, { recursive: true, mode: 0o777 });
  await chown(p.secretsDir, 65534, 65534);
  const error = await t.throwsAsync(p.context());
  t.regex(error!.message, new RegExp(`${p.secretsDir}: belongs to uid 65534, not to this user`));
  t.is(error!.message.split('\n').length, 1);
  t.is((await stat(p.secretsDir)).uid, 65534);
});

test('a symlink in place of the secrets directory is refused', async (t) => {
  const p = await project(t);
  const elsewhere = join(p.dataRoot, 'elsewhere');
  await mkdir(elsewhere, { recursive: true });
  await symlink(elsewhere, p.secretsDir);
  const error = await t.throwsAsync(p.context());
  t.regex(error!.message, /secrets: expected the directory of generated secrets, found a symbolic link/);
});

test('an empty stored secret is an error naming the file and how to regenerate it', async (t) => {
  const p = await project(t);
  await mkdir(p.secretsDir, { recursive: true, mode: 0o700 });
  await writeFile(join(p.secretsDir, PATH), '\n', { mode: 0o600 });
  const error = await t.throwsAsync(async () => (await p.context()).secrets.get(PATH));
  t.is(error!.message, `${join(p.secretsDir, PATH)}: the stored value of ${PATH} is empty; delete the file to generate a new one (then render again whatever uses it)`);
  t.not(error!.name, 'TypeError');
});
