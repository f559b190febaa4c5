// What `npm publish` would ship, and what installing it needs: only the
// compiled library, its declarations and data files; a LICENSE matching
// `license`; gulp as a peer; a dependency tree that fits `engines` on Node 20.
import test from 'ava';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/gulp.ts';
import { npm } from './helpers/consumer-project.ts';
import { tempDir } from './helpers/tmp.ts';

interface PackageJson {
  license: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  files: string[];
}

const packageJson = async () => JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** The files `npm pack` would put in the tarball (without running the build). */
async function packedFiles(): Promise<string[]> {
  const { stdout } = await npm(REPO_ROOT, ['pack', '--dry-run', '--json', '--ignore-scripts']);
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { files: { path: string }[] }[];
  return info!.files.map((f) => f.path).sort();
}

test('npm pack lists the compiled library, its declarations and data files, and no test, bench, CI, fixture or source file', async (t) => {
  const files = await packedFiles();
  const unwanted = files.filter((f) =>
    /^(test|bench|\.ci|scripts|seeds)\//.test(f) || /(^|\/)fixtures?\//.test(f) || /\.test\.|(^|\/)gulpfile\.|^\.gulp\.|corpus\.lock\.json$|tsconfig|package-lock/.test(f) ||
    (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  t.deepEqual(unwanted, []);
  for (const needed of ['build/index.js', 'build/index.d.ts', 'build/tasks/index.d.ts', 'pillar/defaults.yml', 'container/recipes/bookworm.json', 'gulp-config.cjs', 'LICENSE', 'README.md', 'package.json']) {
    t.true(files.includes(needed), `${needed} packed`);
  }
});

test('the LICENSE file is the license package.json names; gulp is a peer dependency, tsx no dependency', async (t) => {
  const pkg = await packageJson();
  t.is(pkg.license, 'MIT');
  t.regex(await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/);
  t.is(pkg.peerDependencies.gulp, '^5.0.0');
  t.false('gulp' in pkg.dependencies);
  t.false('tsx' in pkg.dependencies);
});

test('npm ci of the locked tree on this Node prints no EBADENGINE', async (t) => {
  const dir = await tempDir(t, 'corpus-kit-ci-');
  for (const file of ['package.json', 'package-lock.json']) await copyFile(join(REPO_ROOT, file), join(dir, file));
  const { stdout, stderr } = await npm(dir, ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund']);
  t.notRegex(`${stdout}${stderr}`, /EBADENGINE/);
});
