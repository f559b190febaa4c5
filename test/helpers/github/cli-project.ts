// A project of its own for `gulp publish` through the real gulp CLI: a gulpfile
// built from the kit's task factories, a pillar (publish.yml) pointing at a
// GitHub emulator, and a dist/release/ of our own.
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { REPO_ROOT } from '../gulp.ts';
import { tempDir } from '../tmp.ts';
import { GitHubEmulator } from './emulator.ts';
import { REPO, TAG, TOKEN } from './project.ts';
import { writeReleaseDir } from './release-dir.ts';

export async function cliProject(t: ExecutionContext) {
  const cwd = await tempDir(t, 'corpus-kit-publish-cli-');
  const emulator = await GitHubEmulator.start({ token: TOKEN });
  t.teardown(() => emulator.stop());
  await symlink(join(REPO_ROOT, 'node_modules'), join(cwd, 'node_modules'));
  await writeFile(join(cwd, 'package.json'), '{"name": "publish-cli-test", "private": true, "type": "module"}\n');
  await writeFile(join(cwd, '.gulp.cjs'), "module.exports = { nodeFlags: ['--import=tsx'] };\n");
  await writeFile(join(cwd, 'gulpfile.ts'), [
    "import gulp from 'gulp';",
    `import { createTasks, registerTasks } from ${JSON.stringify(join(REPO_ROOT, 'index.ts'))};`,
    'registerTasks(gulp, await createTasks({ cwd: import.meta.dirname }));',
    '',
  ].join('\n'));
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
