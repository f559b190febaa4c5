// The published build (npm run build, run by prepare): type declarations from
// tsc into build/, and the library as one ES module bundle, build/index.js
// (plus the chunks of what loads on demand, such as the GitHub publisher).
// Start-up is mostly module loading: the kit's ~60 files and TypeBox's ~250
// become a few, with TypeBox reduced to what the kit uses. Every other
// dependency stays an import, installed beside the package.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Bundled in: each is many small files (or, for dotenv, a few lines) of which the kit uses a few functions. */
const INLINED = ['@sinclair/typebox', 'yaml', 'semver', 'dotenv'];

/** Their license texts head the bundle, as their licenses ask of copies. */
const licenseText = (name) => {
  const dir = join(root, 'node_modules', name);
  const file = readdirSync(dir).find((f) => /^licen[sc]e(\.md|\.txt)?$/i.test(f));
  if (!file) throw new Error(`${name}: no license file to carry into the bundle`);
  return readFileSync(join(dir, file), 'utf8').trim().replaceAll('*/', '* /');
};
const notices = INLINED.map((name) => `/*! ${name}:\n${licenseText(name)}\n*/`);
// CommonJS code bundled into an ES module still calls require() for node's own modules.
const requireShim = "import { createRequire as __kitCreateRequire } from 'node:module';\nconst require = __kitCreateRequire(import.meta.url);";

process.chdir(root);
// Built beside build/, then swapped in: tests pack the kit (which rebuilds) while
// others read build/ (the stack's cron runs build/cron.js), and must never see
// a half-written one.
const staging = `build.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', staging], { stdio: 'inherit' });
await build({
  // cron.js: the stack's cron process (lib/cron/main.ts), which supervisord runs with node.
  entryPoints: { index: 'index.ts', cron: 'lib/cron/main.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !INLINED.includes(name)),
  legalComments: 'inline',
  banner: { js: [...notices, requireShim].join('\n') },
  logLevel: 'warning',
});
// Another build may swap its own in between: then set that one aside too, and try again.
const olds = [];
for (;;) {
  const old = `build.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync('build', old);
    olds.push(old);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  try {
    renameSync(staging, 'build');
    break;
  } catch (error) {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  }
}
for (const old of olds) rmSync(old, { recursive: true, force: true });
