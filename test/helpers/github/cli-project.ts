// A project of its own for `gulp publish` through the real gulp CLI: a gulpfile
// built from the kit's task factories, a pillar (publish.yml) pointing at a
// GitHub emulator, and a dist/release/ of our own.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { useGulpCli } from '../build-project.ts';
import { tempDir } from '../tmp.ts';
import { GitHubEmulator } from './emulator.ts';
import { REPO, TAG, TOKEN } from './project.ts';
import { writeReleaseDir } from './release-dir.ts';

export async function cliProject(t: ExecutionContext) {
  const cwd = await tempDir(t, 'corpus-kit-publish-cli-');
  const emulator = await GitHubEmulator.start({ token: TOKEN });
  t.teardown(() => emulator.stop());
  await useGulpCli(cwd, { quiet: false });
  await writeFile(join(cwd, 'publish.yml'), [
    `data_root: ${join(cwd, 'data')}`,
    'publish:',
    '  target: github',
    `  github: {repo: ${REPO}, tag: ${TAG}, base_url: "${emulator.baseUrl}"}`,
    '',
  ].join('\n'));
  const release = await writeReleaseDir(join(cwd, 'dist/release'));
  return { cwd, emulator, release };
}
