// `npm run build` (run by prepare, so by every `npm pack` a test makes) builds
// beside build/ and swaps it in: the suite's other files read build/ meanwhile
// (the stack's cron runs build/cron.js, consumer tests pack it), and never find
// it missing or half-written.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import test from 'ava';
import { REPO_ROOT } from './helpers/gulp.ts';

test('build/ stays whole while npm run build rebuilds it: index.js and cron.js are there at every moment', async (t) => {
  const files = ['index.js', 'cron.js', 'index.d.ts'].map((name) => join(REPO_ROOT, 'build', name));
  const build = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  build.stderr.on('data', (chunk: Buffer) => void (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => build.on('close', resolve));
  let done = false;
  void exited.then(() => (done = true));
  let looks = 0;
  const missing = new Set<string>();
  while (!done) {
    for (const file of files) if (!existsSync(file)) missing.add(file);
    looks++;
    await sleep(2);
  }
  t.is(await exited, 0, stderr);
  t.true(looks > 100, `looked ${looks} times`);
  t.deepEqual([...missing], []);
});
