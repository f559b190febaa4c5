// `gulp publish` through the real gulp CLI in a project of its own, against the
// GitHub emulator: plain progress lines when piped, per-file bars on a terminal
// (a real pty from script(1)), --dry-run with no write, and the token in none of it.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { cliProject } from './helpers/github/cli-project.ts';
import { assetNames, TAG, TOKEN } from './helpers/github/project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

requireCommands('script');

test('gulp publish --dry-run then gulp publish --verbose: plan without writes, then every asset, plain progress lines, no token', async (t) => {
  const { cwd, emulator, release } = await cliProject(t);
  const plan = await runGulp(cwd, ['publish', '--pillar', 'publish.yml', '--dry-run', '--verbose'], { GITHUB_TOKEN: TOKEN });
  t.is(plan.code, 0, plan.all);
  t.deepEqual(emulator.writes(), []);
  t.regex(plan.stdout, new RegExp(`^create +${TAG} `, 'm'));

  const run = await runGulp(cwd, ['publish', '--pillar', 'publish.yml', '--verbose'], { GITHUB_TOKEN: TOKEN });
  t.is(run.code, 0, run.all);
  t.deepEqual(assetNames(emulator), [...release.files].sort());
  t.regex(run.stderr, /^(?:upload|replace) registry-v2\.8\.3\.xz \.\.\.$/m);
  t.regex(run.stderr, /^upload registry-v2\.8\.3\.xz: done, 200\.0 KiB, verified \(\d+\.\ds\)$/m);
  t.notRegex(run.all, /\x1b\[/, 'no terminal escapes when output is piped');
  t.regex(run.stdout, /^asset +size +sha256 +action +url$/m);
  t.false(plan.all.includes(TOKEN) || run.all.includes(TOKEN), 'the token is never printed');
});

test('on a terminal each file gets a progress bar redrawn in place', async (t) => {
  const { cwd, emulator, release } = await cliProject(t);
  const gulp = join(REPO_ROOT, 'node_modules/gulp/bin/gulp.js');
  const command = [process.execPath, gulp, '--cwd', cwd, 'publish', '--pillar', 'publish.yml'].map((a) => `'${a}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, GITHUB_TOKEN: TOKEN, FORCE_COLOR: '0', TERM: 'xterm' };
  delete env.CI;
  const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
  t.is(output.code, 0, output.text);
  t.deepEqual(assetNames(emulator), [...release.files].sort());
  t.regex(output.text, /upload registry-v2\.8\.3\.xz \[[#.]{24}\] +\d+%/, 'a bar per file');
  t.regex(output.text, /\x1b\[\d+A\r\x1b\[J/, 'redrawn in place');
  t.regex(output.text, /upload registry-v2\.8\.3\.xz: done, 200\.0 KiB, verified/);
  t.false(output.text.includes(TOKEN));
});
