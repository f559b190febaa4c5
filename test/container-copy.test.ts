// Copying in and out of a container through the engine CLI: whichever stage of
// the tar | cp pipe fails is reported with its own error, not the other stage's
// complaint about an empty input.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createContext } from '../lib/context.ts';
import { copyInto, copyOut, withContainer } from '../lib/container.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

test.before(() => requireCommands('docker', 'tar'));

/** A one-file image made with `docker import` (no registry, nothing pulled), removed after the test. */
async function fileImage(t: Parameters<typeof tempDir>[0], dir: string): Promise<string> {
  await mkdir(join(dir, 'rootfs/out'), { recursive: true });
  await writeFile(join(dir, 'rootfs/out/hello.txt'), 'hello\n');
  const tag = `corpus-kit-test-copy-${randomBytes(5).toString('hex')}:latest`;
  const tarball = execFileSync('tar', ['-C', join(dir, 'rootfs'), '-c', '.']);
  execFileSync('docker', ['import', '-', tag], { input: tarball, stdio: ['pipe', 'ignore', 'pipe'] });
  t.teardown(() => execFileSync('docker', ['image', 'rm', '--force', tag], { stdio: 'ignore' }));
  return tag;
}

test('copyOut brings a directory out, and names the missing path with the engine\'s error when the container lacks it', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'pillar.yml'), `data_root: ${join(dir, 'data')}\n`);
  const ctx = await createContext({ cwd: dir, argv: ['--pillar', 'pillar.yml'], env: { ...process.env }, logger: { err: () => {}, out: () => {} } });
  const image = await fileImage(t, dir);
  const target = join(dir, 'copied');
  await mkdir(target);
  await withContainer(ctx, [image, '/none'], async (id) => {
    await copyOut(ctx, id, '/out', target);
    t.is(await readFile(join(target, 'hello.txt'), 'utf8'), 'hello\n');
    const error = await t.throwsAsync(copyOut(ctx, id, '/no/such/dir', target));
    t.regex(error?.message ?? '', /\/no\/such\/dir/);
    t.regex(error?.message ?? '', /Could not find the file|No such container:path|no such file/i);
    t.notRegex(error?.message ?? '', /tar archive/);
  });
});

test('copyInto of a host path that does not exist names the path and tar\'s error, not only the engine\'s', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'pillar.yml'), `data_root: ${join(dir, 'data')}\n`);
  const ctx = await createContext({ cwd: dir, argv: ['--pillar', 'pillar.yml'], env: { ...process.env }, logger: { err: () => {}, out: () => {} } });
  const image = await fileImage(t, dir);
  const missing = join(dir, 'no-such-source');
  await withContainer(ctx, [image, '/none'], async (id) => {
    const error = await t.throwsAsync(copyInto(ctx, id, missing, '/out'));
    t.regex(error?.message ?? '', new RegExp(`^tar of ${missing} .*failed \\(exit [1-9]\\d*\\):`));
    t.regex(error?.message ?? '', /Cannot open: No such file or directory|No such file or directory/);
  });
});
