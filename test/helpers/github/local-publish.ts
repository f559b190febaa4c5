// `publish --target local` run through the real task (createTasks), in-process or
// as the crash test's child process: `node --import tsx local-publish.ts <cwd>`
// publishes dist/release-a and dist/release-b into published/, turn about,
// until it is killed. It prints "ready" once the first publish begins.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runKitTasks } from '../tasks.ts';

/** The pillar of a local publish of `<cwd>/<releaseDir>` into `<cwd>/published/<tag>/`. */
export function localPillar(cwd: string, releaseDir: string): Record<string, unknown> {
  return { data_root: join(cwd, 'data'), package: { dir: releaseDir }, publish: { target: 'local', local: { dir: 'published' } } };
}

/** One publish; resolves with what it printed and the error it ended with, if any. */
export async function publishLocal(cwd: string, releaseDir: string): Promise<{ error?: Error; all: string }> {
  const { error, all } = await runKitTasks({ cwd, argv: [], env: {}, pillar: [localPillar(cwd, releaseDir)] }, ['publish']);
  return { error, all };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cwd = process.argv[2]!;
  for (let round = 0; ; round++) {
    const run = publishLocal(cwd, round % 2 === 0 ? 'dist/release-a' : 'dist/release-b');
    if (round === 0) process.stdout.write('ready\n');
    const { error, all } = await run;
    if (error) {
      process.stderr.write(`${all}${error.message}\n`);
      process.exit(1);
    }
  }
}
