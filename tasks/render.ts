// render: every file of the stack from the pillar and the plugins' registrations,
// staged beside {data_root}/etc/, validated by the programs that read them, then
// swapped in atomically. A render that changes nothing rewrites nothing and says
// so; --dry-run prints what would change (secret files named, never shown).
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { localId } from '../lib/accounts.ts';
import type { Context } from '../lib/context.ts';
import { ensureDir } from '../lib/dirs.ts';
import { UserError } from '../lib/errors.ts';
import { lockTimeoutMs, withLock } from '../lib/lock.ts';
import type { Stack } from '../plugins/stack.ts';
import { gatherStack } from './render/gather.ts';
import { checkPorts, checkProcessSecrets, checkToken, renderFiles, type StackFile } from './render/files.ts';
import { changes, current, etcTree, privateTree, stage, sweep, swap, treeHash, type Change, type Installed, type Tree } from './render/install.ts';
import { validateStaged } from './render/validate.ts';
import { defineTask } from './task.ts';

/** The gid of the service group, which may read the secret files (0640). */
function groupId(name: string): number {
  const gid = localId('group', name);
  if (gid === undefined) throw new UserError(`group: the service group "${name}" does not exist (create it: groupadd ${name}, or set group: in the pillar)`);
  return gid;
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
 * the services reach their files whatever the umask. nginx's temp folder and
 * redis's are the service user's (`up` gives them to it): made here only when
 * missing, never taken back from a running stack.
 */
async function runtimeDirs(stack: Stack, gid: number): Promise<void> {
  for (const dir of [stack.paths.data, stack.paths.log, stack.paths.run]) await ensureDir(dir, 0o750, { uid: 0, gid });
  for (const dir of [join(stack.paths.run, 'nginx'), join(stack.paths.data, 'redis')]) {
    if (!existsSync(dir)) await ensureDir(dir, 0o750, { uid: 0, gid });
  }
}

/** One tree's part of a render: what is installed, what would change, the staging directory. */
interface TreeRender {
  tree: Tree;
  files: StackFile[];
  installed: Installed;
  list: Change[];
  /** The path a change is named by ("secrets/processes/registry/http_secret"). */
  label: (path: string) => string;
}

async function planTree(tree: Tree, files: StackFile[], label: (path: string) => string): Promise<TreeRender> {
  const installed = await current(tree);
  await sweep(tree, installed.dir);
  return { tree, files, installed, list: await changes(installed, files), label };
}

/** Stages the tree's new generation, or nothing when none of its files changed. */
async function stageTree(t: TreeRender): Promise<string | undefined> {
  if (t.list.length === 0) return undefined;
  const changed = new Set(t.list.map((c) => c.path));
  return stage(t.tree, t.files, t.installed, new Set(t.files.map((f) => f.path).filter((path) => !changed.has(path))));
}

/** Installs a staged generation and sweeps the ones before it. */
async function install(t: TreeRender, staged: string): Promise<string> {
  const generation = await swap(t.tree, staged, treeHash(t.files), t.installed);
  await sweep(t.tree, generation);
  return generation;
}

/**
 * Renders and installs `stack` (gathered here unless the caller has it
 * already); returns the installed paths whose content changed.
 */
export async function runRender(ctx: Context, stack?: Stack): Promise<string[]> {
  stack ??= await gatherStack(ctx);
  checkPorts(stack);
  checkToken(stack);
  const files = renderFiles(stack, ctx.plugins);
  checkProcessSecrets(stack, files);
  const gid = groupId(ctx.pillar.group);
  const { data, etc, processSecrets } = stack.paths;
  await runtimeDirs(stack, gid);
  await mkdir(dirname(processSecrets), { recursive: true, mode: 0o700 });
  return withLock(join(data, '.etc.lock'), async () => {
    const privateLabel = (path: string) => join(relative(data, processSecrets), path);
    const config = await planTree(etcTree(data, gid), files.filter((f) => !f.private), (path) => path);
    const secret = await planTree(privateTree(processSecrets), files.filter((f) => f.private), privateLabel);
    const changed = [config, secret].flatMap((t) => t.list.map((c) => ({ ...c, path: t.label(c.path) })));
    if (changed.length === 0) {
      ctx.log.info(`render: no change (${files.length} files in ${etc} and ${processSecrets})`);
      return [];
    }
    const staged = await stageTree(config);
    const stagedPrivate = await stageTree(secret);
    try {
      // A tree that did not change is validated as installed.
      await validateStaged(ctx, { dir: staged ?? etc, etc, files: config.files, privateDir: stagedPrivate ?? processSecrets, processSecrets }, stack);
      if (ctx.flags.dryRun) {
        if (staged) await printDiff(ctx, config.list, config.installed, staged);
        if (stagedPrivate) await printDiff(ctx, secret.list.map((c) => ({ ...c, path: privateLabel(c.path), secret: true })), secret.installed, stagedPrivate);
        ctx.log.info(`render: --dry-run: ${changed.length} file${changed.length === 1 ? '' : 's'} would change; nothing installed`);
        return [];
      }
      // The private files first, the configuration that names them second; the
      // old private files are swept only then (the old configuration may name one).
      const privateGeneration = stagedPrivate && (await swap(secret.tree, stagedPrivate, treeHash(secret.files), secret.installed));
      const generation = staged ? await install(config, staged) : config.installed.dir;
      if (privateGeneration) await sweep(secret.tree, privateGeneration);
      ctx.log.info(`render: installed ${etc} -> ${generation}: ${changed.map((c) => `${c.path} (${c.kind})`).join(', ')}`);
      const installedPaths = (t: TreeRender) => t.list.filter((c) => c.content).map((c) => join(t.tree.parent, t.tree.name, c.path));
      return [...installedPaths(config), ...installedPaths(secret)];
    } finally {
      for (const dir of [staged, stagedPrivate]) if (dir) await rm(dir, { recursive: true, force: true });
    }
  }, { what: 'render', timeoutMs: lockTimeoutMs(ctx.env, 120), onWait: (holder) => ctx.log.info(holder) });
}

export const renderTask = defineTask({
  name: 'render',
  description: 'Render every config file of the stack into a staging dir, validate with nginx -t, supervisord, sshd -t, install atomically',
  flags: ['dryRun'],
  run: async (ctx) => {
    await runRender(ctx);
  },
});
