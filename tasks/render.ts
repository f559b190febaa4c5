// render: every file of the stack from the pillar and the plugins' registrations,
// staged beside {data_root}/etc/, validated by the programs that read them, then
// swapped in atomically. A render that changes nothing rewrites nothing and says
// so; --dry-run prints what would change (secret files named, never shown).
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { lockTimeoutMs, withLock } from '../lib/lock.ts';
import type { Stack } from '../plugins/stack.ts';
import { gatherStack } from './render/gather.ts';
import { checkPorts, checkToken, renderFiles } from './render/files.ts';
import { changes, current, stage, sweep, swap, treeHash, type Change, type Installed } from './render/install.ts';
import { validateStaged } from './render/validate.ts';
import { defineTask } from './task.ts';

/** The gid of the service group, which may read the secret files (0640). */
async function groupId(name: string): Promise<number> {
  const entry = (await readFile('/etc/group', 'utf8')).split('\n').map((line) => line.split(':')).find((fields) => fields[0] === name);
  if (!entry) throw new UserError(`group: the service group "${name}" does not exist (create it: groupadd ${name}, or set group: in the pillar)`);
  return Number(entry[2]);
}

/** A unified diff of each change; a secret file is named, its content never shown. */
async function printDiff(ctx: Context, list: readonly Change[], installed: Installed, staged: string): Promise<void> {
  for (const change of list) {
    if (change.secret) {
      ctx.log.print(`--- a/${change.path}\n+++ b/${change.path}\n(secret file ${change.kind}: content not shown)`);
      continue;
    }
    const before = change.kind === 'added' || !installed.dir ? '/dev/null' : join(installed.dir, change.path);
    const after = change.kind === 'removed' ? '/dev/null' : join(staged, change.path);
    const out = await ctx.sh({ nothrow: true })`diff -u --label ${`a/${change.path}`} --label ${`b/${change.path}`} ${before} ${after}`;
    ctx.log.print(out.stdout);
  }
}

/**
 * data_root and the directories processes write into at run time (nginx -t
 * opens its logs and temp paths too): root's, 0750, group the service group, so
 * the services reach their files whatever the umask.
 */
async function runtimeDirs(stack: Stack, gid: number): Promise<void> {
  for (const dir of [stack.paths.data, stack.paths.log, stack.paths.run, join(stack.paths.run, 'nginx'), join(stack.paths.data, 'redis')]) {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await chown(dir, 0, gid);
    await chmod(dir, 0o750);
  }
}

export async function runRender(ctx: Context): Promise<void> {
  const stack = await gatherStack(ctx);
  checkPorts(stack);
  checkToken(stack);
  const files = renderFiles(stack, ctx.plugins);
  const gid = await groupId(ctx.pillar.group);
  const { data, etc } = stack.paths;
  await runtimeDirs(stack, gid);
  await withLock(join(data, '.etc.lock'), async () => {
    await sweep(data, (await current(data)).dir);
    const installed = await current(data);
    const list = await changes(installed, files);
    if (list.length === 0) {
      ctx.log.info(`render: no change (${files.length} files in ${etc})`);
      return;
    }
    const changed = new Set(list.map((c) => c.path));
    const unchanged = new Set(files.map((f) => f.path).filter((path) => !changed.has(path)));
    const staged = await stage(data, files, installed, unchanged, gid);
    try {
      await validateStaged(ctx, { dir: staged, etc, files }, stack);
      if (ctx.flags.dryRun) {
        await printDiff(ctx, list, installed, staged);
        ctx.log.info(`render: --dry-run: ${list.length} file${list.length === 1 ? '' : 's'} would change; nothing installed`);
        return;
      }
      const generation = await swap(data, staged, treeHash(files), installed);
      await sweep(data, generation);
      ctx.log.info(`render: installed ${etc} -> ${generation}: ${list.map((c) => `${c.path} (${c.kind})`).join(', ')}`);
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }, { what: 'render', timeoutMs: lockTimeoutMs(ctx.env, 120), onWait: (holder) => ctx.log.info(holder) });
}

export const renderTask = defineTask({
  name: 'render',
  description: 'Render every config file of the stack into a staging dir, validate with nginx -t, supervisord, sshd -t, install atomically',
  flags: ['dryRun'],
  run: runRender,
});
