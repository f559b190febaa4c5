// Where the package's data files live (pillar/defaults.yml, container/recipes/,
// templates/): the folder of its package.json. Modules run from the sources
// (lib/x.ts) and from the compiled output (build/lib/x.js), one level deeper,
// so the root is found by walking up rather than by a fixed number of "..".
// A leaf module in the lowest layer (it imports nothing of the kit), so every
// layer may use it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`corpus-kit: no package.json above ${start}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A file shipped with the package, by its path in the repository. */
export function packageFile(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}
