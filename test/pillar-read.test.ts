// Reading a pillar file (issue 7 point 13): at most the size limit + 1 bytes
// from any file, pipe or device (a stat size means nothing for a pipe), and a
// directory or unreadable path is one line naming it, never a stack.
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { loadPillar, MAX_PILLAR_BYTES } from '../pillar/loader.ts';
import { tempDir } from './helpers/tmp.ts';

const TOO_LARGE = `expected a pillar file of at most ${MAX_PILLAR_BYTES} bytes, got more`;

/** The message of the problem loading `file` gives (a crash is rethrown as it is). */
async function problemOf(cwd: string, file: string): Promise<string> {
  const error = await loadPillar({ cwd, files: [file], env: {} }).then(() => undefined, (e: Error) => e);
  if (!error) throw new Error(`${file} was accepted`);
  if (error.name === 'RangeError' || error.name === 'TypeError') throw error;
  return error.message;
}

test('/dev/zero is refused after reading the limit, not read until memory runs out', async (t) => {
  const dir = await tempDir(t);
  const before = process.memoryUsage().rss;
  const message = await problemOf(dir, '/dev/zero');
  t.true(message.includes(`(pillar) (from /dev/zero): ${TOO_LARGE}`), message);
  t.true(process.memoryUsage().rss - before < 64 * 1024 * 1024);
});

test('a pipe larger than the limit is refused (stat says 0 bytes for a pipe)', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'pillar.fifo');
  await new Promise((done, fail) => spawn('mkfifo', [fifo]).on('close', (code) => (code === 0 ? done(undefined) : fail(new Error('mkfifo failed')))));
  // A writer of 6 MB of valid YAML comments, as `--pillar <(cat 6MB.yml)` gives.
  const writer = spawn('sh', ['-c', 'yes "# a comment line of the pillar, forty-two bytes" | head -c 6000000 > "$1"', 'sh', fifo]);
  t.teardown(() => writer.kill());
  const message = await problemOf(dir, fifo);
  t.true(message.includes(TOO_LARGE), message);
});

test('a pipe within the limit is read whole', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'small.fifo');
  await new Promise((done) => spawn('mkfifo', [fifo]).on('close', done));
  const writer = spawn('sh', ['-c', 'printf "domain: piped.example.com\\n" > "$1"', 'sh', fifo]);
  t.teardown(() => writer.kill());
  const { pillar } = await loadPillar({ cwd: dir, files: [fifo], env: {} });
  t.is(pillar.domain, 'piped.example.com');
});

const UNREADABLE: [string, (dir: string) => Promise<string>, RegExp][] = [
  ['a directory', async (dir) => dir, /expected a readable pillar file, got EISDIR \(a directory\)$/],
  ['a path through a file', async (dir) => (await writeFile(join(dir, 'f'), ''), join(dir, 'f', 'pillar.yml')), /got ENOTDIR/],
  ['a symlink loop', async (dir) => (await symlink(join(dir, 'loop'), join(dir, 'loop')), join(dir, 'loop')), /got ELOOP \(a symbolic link loop\)$/],
];

for (const [what, make, expected] of UNREADABLE) {
  test(`${what} as a pillar file is a one-line problem naming it`, async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'sub'));
    const file = await make(join(dir, 'sub'));
    const message = await problemOf(dir, file);
    const line = message.split('\n')[1]!;
    t.is(message.split('\n').length, 2, message); // the heading and one problem
    t.true(line.includes(`(from ${file})`), line);
    t.regex(line, expected);
  });
}
