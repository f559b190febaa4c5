// image:run: the registry image production-style. {data_root} is a named
// volume or a host folder (image.run.data); the run's pillar files (--pillar,
// PILLAR) are mounted read-only and passed as PILLAR, over the data volume's
// configuration/pillar.yml and the image's defaults (container/entrypoint);
// --network host or the pillar's ports published; a restart policy; the
// container is named after the project. In the foreground (docker forwards
// signals) or --detach.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { inspectImage, LABEL } from '../lib/container.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { envPillarFiles } from '../pillar/loader.ts';
import { imageTags } from './image-build.ts';
import { defineTask } from './task.ts';

/** docker stop waits this long for the launcher to stop the stack through the supervisor. */
export const STOP_TIMEOUT_S = 60;
/** Where the run's pillar files are mounted in the container. */
const PILLAR_DIR = '/etc/corpus-kit/run';

/** The run's pillar files, as PILLAR then --pillar give them (the loader's order), absolute. */
function runPillars(ctx: Context): string[] {
  return [...envPillarFiles(ctx.cwd, ctx.env), ...ctx.flags.pillar.map((f) => resolve(ctx.cwd, f))];
}

async function imageRunArgs(ctx: Context): Promise<string[]> {
  const { release } = await imageTags(ctx);
  if (!(await inspectImage(ctx, release))) throw new UserError(`image:run: no image ${release}; build it first (gulp image:build)`);
  const p = ctx.pillar;
  const { data, network, restart } = p.image.run;
  if (data.startsWith('/') && !existsSync(data)) await mkdir(data, { recursive: true, mode: 0o750 });
  const files = runPillars(ctx);
  for (const file of files) if (!existsSync(file)) throw new UserError(`image:run: pillar file ${file} does not exist`);
  const mounts = [
    `type=${data.startsWith('/') ? 'bind' : 'volume'},source=${data},target=${p.data_root}`,
    ...files.map((file, i) => `type=bind,source=${file},target=${PILLAR_DIR}/${i}-${basename(file)},readonly`),
  ].flatMap((m) => ['--mount', m]);
  const ports = network === 'host' ? ['--network', 'host'] : [...new Set([p.ports.http, p.ports.https])].flatMap((port) => ['--publish', `${port}:${port}`]);
  return [
    'run', ...(ctx.flags.detach ? ['--detach'] : ['--rm']), '--name', p.project, '--label', LABEL, ...ports, ...mounts,
    '--restart', ctx.flags.detach ? restart : 'no', '--stop-timeout', String(STOP_TIMEOUT_S),
    '--env', `PILLAR=${files.map((file, i) => `${PILLAR_DIR}/${i}-${basename(file)}`).join(':')}`,
    release,
  ];
}

async function runImageRun(ctx: Context): Promise<void> {
  const args = await imageRunArgs(ctx);
  ctx.log.info(`image:run: ${ctx.pillar.project} from ${args.at(-1)}${ctx.flags.detach ? ' (detached)' : ''}`);
  const run = await ctx.sh({ nothrow: true, stdio: ctx.flags.detach ? 'pipe' : 'inherit' })`${ctx.pillar.engine} ${args}`;
  if (run.exitCode !== 0) throw new UserError(`image:run: ${ctx.pillar.engine} run failed (exit ${run.exitCode})${run.stderr ? `: ${run.stderr.trim()}` : ''}`);
  if (ctx.flags.detach) ctx.log.info(`image:run: container ${run.stdout.trim().slice(0, 12)} (${ctx.pillar.project}); \`${ctx.pillar.engine} logs -f ${ctx.pillar.project}\`, \`${ctx.pillar.engine} stop ${ctx.pillar.project}\``);
}

export const imageRunTask = defineTask({
  name: 'image:run',
  description: 'Run {image.name}:{version}: {data_root} on image.run.data (a volume or a host folder), the pillar files mounted, --network host or the ports published, restart policy image.run.restart; --detach',
  flags: ['detach'],
  run: runImageRun,
});
