// The pillar layer depends on nothing of the kit above it (issue 7 point 15):
// every module under pillar/ imports only node:, packages and pillar/ itself,
// type-only imports included, so no circle runs through lib/ or plugins/.
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const PILLAR = fileURLToPath(new URL('../pillar/', import.meta.url));

/** Every module specifier in a TypeScript source: static, type-only, re-exports and dynamic import(). */
function specifiers(source: string): string[] {
  const found = [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g), ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)];
  return found.map((match) => match[1]!);
}

test('pillar/ imports nothing of the kit outside pillar/', async (t) => {
  const files = (await readdir(PILLAR)).filter((name) => name.endsWith('.ts'));
  t.true(files.includes('secrets.ts') && files.includes('loader.ts'), files.join(' '));
  const outside: string[] = [];
  for (const file of files) {
    for (const specifier of specifiers(await readFile(`${PILLAR}${file}`, 'utf8'))) {
      if (specifier.startsWith('.') && !resolve(PILLAR, specifier).startsWith(PILLAR)) outside.push(`pillar/${file} imports ${specifier}`);
    }
  }
  t.deepEqual(outside, []);
});

test('the import scanner sees type-only, re-export and multi-line imports', (t) => {
  t.deepEqual(specifiers("import type { Logger } from '../lib/logger.ts';\nexport { x } from '../lib/x.ts';\nimport {\n  a,\n  b,\n} from '../lib/git.ts';\nconst m = await import('../plugins/host.ts');"), ['../lib/logger.ts', '../lib/x.ts', '../lib/git.ts', '../plugins/host.ts']);
});
