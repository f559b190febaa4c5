// The folders render prepares under data_root keep a setgid bit the admin put
// there (a folder shared with a group, as image:dev's editor volume): files the
// services write keep inheriting the folder's group. The kit never adds one.
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { requireCommands } from './helpers/prerequisites.ts';
import { renderProject } from './helpers/render-project.ts';

const SETGID = 0o2000;

test('render keeps a setgid data_root setgid (and what it creates in it), so new files there get the shared group', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }));
  await mkdir(p.data);
  await chown(p.data, 0, nogroup);
  await chmod(p.data, 0o2750);
  const run = await p.run(['ca', 'render']);
  t.is(run.error, undefined, run.all);
  for (const dir of [p.data, join(p.data, 'log'), join(p.data, 'run')]) {
    const info = await stat(dir);
    t.is(info.mode & 0o7777, 0o2750, dir);
  }
  await writeFile(join(p.data, 'log', 'new.log'), '');
  t.is((await stat(join(p.data, 'log', 'new.log'))).gid, nogroup);
});

test('render adds no setgid bit of its own', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  const run = await p.run(['ca', 'render']);
  t.is(run.error, undefined, run.all);
  for (const dir of [p.data, join(p.data, 'log'), join(p.data, 'run')]) t.is((await stat(dir)).mode & SETGID, 0, dir);
});
