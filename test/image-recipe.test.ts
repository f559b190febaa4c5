// The base recipe's `pip` step: a recipe whose pip entry is not pinned by hash,
// or names no absolute venv, or a command that is no name, stops before any
// debootstrap with the recipe file and the key named.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { recipeImage } from '../container/recipes.ts';
import { createContext } from '../lib/context.ts';
import { tempDir } from './helpers/tmp.ts';

const CIRCUS = 'circus==0.19.0 --hash=sha256:15cac59d2bac8d8793f801a3a57e54acb261590c93e29fbfe639eaef8a680d39';

const bad = [
  { what: 'a requirement without its hash', pip: { venv: '/opt/circus', requirements: ['circus==0.19.0'], commands: [] }, error: /bad\.json: "pip\.requirements": expected "name==version --hash=sha256:<64 hex>" lines, got \["circus==0\.19\.0"\]$/ },
  { what: 'a requirement without its version', pip: { venv: '/opt/circus', requirements: ['circus --hash=sha256:' + 'a'.repeat(64)] }, error: /"pip\.requirements": expected/ },
  { what: 'a relative venv', pip: { venv: 'opt/circus', requirements: [CIRCUS] }, error: /bad\.json: "pip\.venv": expected an absolute path, got "opt\/circus"$/ },
  { what: 'a command that is a path', pip: { venv: '/opt/circus', requirements: [CIRCUS], commands: ['../circusd'] }, error: /bad\.json: "pip\.commands": expected a list of command names, got \["\.\.\/circusd"\]$/ },
  { what: 'a string', pip: 'circus', error: /bad\.json: "pip\.venv": expected an absolute path, got undefined$/ },
];

for (const { what, pip, error } of bad) {
  test(`a recipe whose pip step has ${what} is refused naming the file and key, before anything is built`, async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'container', 'recipes'), { recursive: true });
    await writeFile(join(dir, 'container', 'recipes', 'bad.json'), JSON.stringify({ suite: 'trixie', pip }));
    const ctx = await createContext({ cwd: dir, argv: [] });
    const thrown = await t.throwsAsync(recipeImage(ctx, 'bad'));
    t.regex(thrown!.message, error);
    t.is(thrown!.message.split('\n').length, 1, 'one line');
  });
}

