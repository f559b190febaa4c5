// render + validate of the whole default stack (token mode), median of 5, each
// run with a changed port so it really stages, validates and swaps; printed
// beside a plain `nginx -t` of the same files and beside all the validators
// render runs (nginx -t, supervisord's loader, sshd -t): the floor. Goal:
// render adds less than 0.5 s over the validators themselves.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { createTasks } from '../tasks/index.ts';
import { SUPERVISOR_LOADER, SYSTEM_PYTHON } from '../tasks/render/validate.ts';
import { isMain, row, seconds } from './measure.ts';

async function median(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await seconds(() => fn(i)));
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

export async function renderBench(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-kit-bench-render-'));
  try {
    const data = join(dir, 'data');
    const pillar = join(dir, 'pillar.yml');
    const write = (http: number) => writeFile(pillar, `data_root: ${data}\nuser: nobody\ngroup: nogroup\nports: {http: ${http}, https: 48443}\nsshd: {host: 127.0.0.1, port: 48022}\n`);
    const tasks = async () => createTasks({ cwd: dir, argv: ['--pillar', pillar], env: { REGISTRY_READONLY_PASSWORD: 'bench-readonly-password' }, logger: { err: () => {}, out: () => {} } });
    await write(48080);
    await (await tasks()).ca!();
    await (await tasks()).render!();
    const render = await median(5, async (i) => {
      await write(48081 + i);
      await (await tasks()).render!();
    });
    const etc = join(data, 'etc');
    const $q = $({ quiet: true });
    const nginx = () => $q`nginx -t -q -c ${join(etc, 'nginx', 'nginx.conf')} -e ${join(data, 'log', 'nginx-error.log')}`;
    const nginxOnly = await median(5, nginx);
    const validators = await median(5, async () => {
      await nginx();
      await $q`${SYSTEM_PYTHON} -c ${SUPERVISOR_LOADER} ${join(etc, 'supervisor', 'supervisord.conf')}`;
      await $q`/usr/sbin/sshd -t -f ${join(etc, 'ssh', 'sshd_config')}`;
    });
    return [
      row('render (gather, render, stage, validate, swap), median of 5', render),
      row('plain nginx -t of the same files, median of 5', nginxOnly),
      row('the validators alone (nginx -t, supervisord, sshd -t)', validators),
      row('render over the validators (goal < 0.50)', render - validators),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) console.log((await renderBench()).join('\n'));
