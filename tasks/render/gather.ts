// The inputs of a render that need I/O: the secrets (generated once and kept),
// the public keys dropped into {data_root}/ssh/authorized_keys.d/, and the sshd
// host keys (generated once). Then the stack model is frozen from them.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../../lib/context.ts';
import { SSH_HOST_KEYS } from '../../plugins/builtin/sshd.ts';
import { freezeStack, stackPaths, type Stack } from '../../plugins/stack.ts';

async function authorizedKeys(dir: string): Promise<Stack['authorizedKeys']> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((name) => name.endsWith('.pub')).sort();
  return Promise.all(names.map(async (file) => ({ file, key: await readFile(join(dir, file), 'utf8') })));
}

/** sshd's host keys under {data_root}/ssh/, generated once and kept (clients remember them). */
async function hostKeys(ctx: Context, dir: string): Promise<void> {
  await mkdir(join(dir, 'authorized_keys.d'), { recursive: true, mode: 0o750 });
  await chmod(dir, 0o750);
  for (const name of SSH_HOST_KEYS) {
    const file = join(dir, name);
    if (existsSync(file)) continue;
    await ctx.sh`ssh-keygen -q -t ed25519 -N ${''} -C ${`${ctx.pillar.project} host key`} -f ${file}`;
    await chmod(file, 0o600);
    ctx.log.info(`render: new sshd host key ${file}`);
  }
}

export async function gatherStack(ctx: Context): Promise<Stack> {
  const { pillar } = ctx;
  const paths = stackPaths(pillar);
  const users: Record<string, string> = {};
  for (const name of Object.keys(pillar.users)) users[name] = await ctx.secrets.get(`users.${name}.password`);
  const secrets = {
    users,
    redisPassword: await ctx.secrets.get('redis.password'),
    httpSecret: await ctx.secrets.get('registry.http_secret'),
  };
  if (ctx.plugins.processes.some((p) => p.owner === 'sshd')) await hostKeys(ctx, paths.ssh);
  return freezeStack(pillar, ctx.plugins, { secrets, authorizedKeys: await authorizedKeys(join(paths.ssh, 'authorized_keys.d')) });
}
