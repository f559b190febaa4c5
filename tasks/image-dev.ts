// image:dev: the seed's hacking workflow. The host must have the editor group
// with the pillar's gid, and the invoking user (SUDO_USER through sudo) in it;
// otherwise the exact commands are printed and nothing starts. Then the image
// ({image.name}:{image.dev_tag}, built when missing or with --rebuild) runs with
// the project folder and the data folder mounted at their own paths, shared
// with that group (container/entrypoint-dev), and runs the launcher from the
// mounted project, or a shell with --shell.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { inspectImage } from '../lib/container.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { envPillarFiles } from '../pillar/loader.ts';
import { imageTags, runImageBuild } from './image-build.ts';
import { defineTask } from './task.ts';

/** One line of the group database: name:password:gid:members. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parseGroup(line: string): GroupEntry | undefined {
  const [name, , gid, members] = line.trim().split(':');
  if (!name || gid === undefined || !/^\d+$/.test(gid)) return undefined;
  return { name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) };
}

export interface EditorFacts {
  wanted: { group: string; gid: number };
  user: string;
  /** The group of that name, and the group of that gid, as the host has them. */
  byName?: GroupEntry;
  byGid?: GroupEntry;
  /** The user's primary gid (a member without being listed). */
  primaryGid?: number;
}

/** What is wrong with the host's editor group, with the commands that fix it (empty: nothing). */
export function editorProblems(f: EditorFacts): string[] {
  const { group, gid } = f.wanted;
  if (f.byName && f.byName.gid !== gid) {
    return [`the group "${group}" has gid ${f.byName.gid} on this host, not ${gid} (editor.gid): the files must share the gid; choose another editor.group name (with \`groupadd -g ${gid} NAME\`), or \`groupmod -g ${gid} ${group}\` if nothing else uses it`];
  }
  if (f.byGid && f.byGid.name !== group) {
    return [`gid ${gid} (editor.gid) belongs to the group "${f.byGid.name}" on this host, not "${group}" (editor.group): set editor.group: ${f.byGid.name} in the pillar, or choose another editor.gid`];
  }
  if (!f.byName) return [`no group "${group}" on this host; create it and add yourself: \`groupadd -g ${gid} ${group}\` then \`gpasswd -a ${f.user} ${group}\` (then log in again)`];
  if (!f.byName.members.includes(f.user) && f.primaryGid !== gid) return [`the user "${f.user}" is not in the group "${group}": \`gpasswd -a ${f.user} ${group}\` (then log in again)`];
  return [];
}

async function getent(ctx: Context, db: string, key: string): Promise<string | undefined> {
  const out = await ctx.sh({ nothrow: true })`getent ${db} ${key}`;
  return out.exitCode === 0 ? out.stdout.trim().split('\n')[0] : undefined;
}

/** The host's editor group facts for the invoking user (SUDO_USER when run through sudo). */
async function editorFacts(ctx: Context): Promise<EditorFacts> {
  const wanted = { group: ctx.pillar.editor.group, gid: ctx.pillar.editor.gid };
  const user = ctx.env.SUDO_USER || userInfo().username;
  // Through NSS (getent), not /etc/group alone: the editor group may come from a directory service.
  const [passwdLine, byName, byGid] = await Promise.all([getent(ctx, 'passwd', user), getent(ctx, 'group', wanted.group), getent(ctx, 'group', String(wanted.gid))]);
  const passwd = passwdLine?.split(':');
  return {
    wanted, user, primaryGid: passwd?.[3] === undefined ? undefined : Number(passwd[3]),
    byName: byName === undefined ? undefined : parseGroup(byName),
    byGid: byGid === undefined ? undefined : parseGroup(byGid),
  };
}

/** The pillar files the run was given (--pillar, PILLAR), as absolute paths, mounted read-only at the same place. */
function pillarFiles(ctx: Context): { files: string[]; env: string } {
  return { files: ctx.flags.pillar.map((f) => resolve(ctx.cwd, f)), env: envPillarFiles(ctx.cwd, ctx.env).join(':') };
}

async function runImageDev(ctx: Context): Promise<void> {
  const problems = editorProblems(await editorFacts(ctx));
  if (problems.length > 0) throw new UserError(`image:dev: the editor group is not ready, nothing was started:\n  - ${problems.join('\n  - ')}`);
  const { dev } = await imageTags(ctx);
  const image = !ctx.flags.rebuild && (await inspectImage(ctx, dev)) ? dev : (await runImageBuild(ctx), dev);
  const project = ctx.cwd;
  const data = ctx.pillar.data_root;
  if (!existsSync(data)) await mkdir(data, { recursive: true, mode: 0o2775 });
  const { files, env } = pillarFiles(ctx);
  const inside = (path: string) => [project, data].some((dir) => path === dir || path.startsWith(`${dir}/`));
  const readonly = [...new Set([...files, ...env.split(':').filter(Boolean)])].filter((f) => !inside(f));
  const mounts = [...[project, data].map((dir) => `type=bind,source=${dir},target=${dir}`), ...readonly.map((f) => `type=bind,source=${f},target=${f},readonly`)].flatMap((m) => ['--mount', m]);
  const interactive = ctx.flags.shell ? ['--interactive', ...(process.stdin.isTTY ? ['--tty'] : [])] : process.stdin.isTTY ? ['--interactive', '--tty'] : [];
  const command = ctx.flags.shell ? ['shell'] : ['up', ...files.flatMap((f) => ['--pillar', f])];
  const args = [
    'run', '--rm', ...interactive, '--name', `${ctx.pillar.project}-dev`, '--network', 'host', ...mounts,
    // tini as PID 1, as in the image: signals forwarded to the launcher (or the shell), orphans reaped.
    '--env', `PILLAR=${env}`, '--entrypoint', '/usr/bin/tini', image,
    '--', '/usr/local/bin/corpus-kit-dev', String(ctx.pillar.editor.gid), project, data, ...command,
  ];
  ctx.log.info(`image:dev: ${image} with ${project} and ${data} shared with the group ${ctx.pillar.editor.group} (gid ${ctx.pillar.editor.gid})${ctx.flags.shell ? ', a shell' : ', the launcher'}`);
  // The terminal is the user's: the container's streams are ours, unfiltered (the shell is theirs to type in).
  const run = await ctx.sh({ nothrow: true, stdio: 'inherit' })`${ctx.pillar.engine} ${args}`;
  if (run.exitCode !== 0) throw new UserError(`image:dev: the container exited with code ${run.exitCode}`);
}

export const imageDevTask = defineTask({
  name: 'image:dev',
  description: 'Hack on the image: checks the editor group, builds {image.name}:{image.dev_tag} when missing (--rebuild: always), runs it with the project and data folders shared with that group; the launcher, or --shell',
  flags: ['shell', 'rebuild'],
  run: runImageDev,
});
