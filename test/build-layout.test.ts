// How a binary's build layout is chosen: the default registry pin builds in the
// legacy GOPATH layout; `gopath: null` over it (a 3.x pin) builds the module
// with its vendor/ directory, and refuses a tree without go.mod.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { planBuild } from '../lib/gobuild.ts';
import { loadPillar } from '../pillar/loader.ts';
import { tempDir } from './helpers/tmp.ts';

async function registryBuild(t: Parameters<typeof tempDir>[0], override: object, tree: Record<string, string>) {
  const { pillar } = await loadPillar({ cwd: '/nonexistent', env: {}, code: [{ binaries: { registry: override } }] });
  const dir = await tempDir(t, 'corpus-kit-layout-');
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const source = { kind: 'source' as const, binary: 'registry', dir, ref: 'v3.0.0', commit: 'c'.repeat(40), version: 'v3.0.0' };
  return planBuild({ name: 'registry', config: pillar.binaries.registry! }, source, 'sha256:builder');
}

const MODULE_TREE = { 'go.mod': 'module github.com/distribution/distribution/v3\n\ngo 1.23.7\n', 'vendor/modules.txt': '# vendored\n', 'cmd/registry/main.go': 'package main\n' };

test('the default registry pin builds in the GOPATH layout under its import path', async (t) => {
  const build = await registryBuild(t, {}, MODULE_TREE);
  t.is(build.layout, 'gopath');
  t.is(build.srcMount, '/go/src/github.com/docker/distribution');
});

test('gopath: null over the default builds the module, with its vendor/ directory (a 3.x pin)', async (t) => {
  const build = await registryBuild(t, { source: { ref: 'v3.0.0' }, build: { gopath: null } }, MODULE_TREE);
  t.is(build.layout, 'vendor');
  t.is(build.srcMount, '/src');
  t.is(build.goDirective, '1.23.7');
});

test('gopath: null on a tree without go.mod names the key to set', async (t) => {
  const error = await t.throwsAsync(registryBuild(t, { build: { gopath: null } }, { 'cmd/registry/main.go': 'package main\n' }));
  t.regex(error!.message, /binaries\.registry\.build: no go\.mod in "\." of registry@v3\.0\.0; for a project in the legacy GOPATH layout set binaries\.registry\.build\.gopath/);
});
