// A second dockerd on its own unix socket, data root and exec root: an engine
// that is not the default one, to prove builds go where DOCKER_HOST points.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Dockerd {
  /** unix:///... for DOCKER_HOST. */
  host: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  // Short path: containerd's socket lives under the exec root and unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp('/tmp/ckd-');
  const host = `unix://${join(dir, 'd.sock')}`;
  const env = { ...process.env, DOCKER_HOST: host };
  const daemon = spawn('dockerd', [
    '--bridge=none', '--iptables=false', '--ip6tables=false',
    '-H', host, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'x'), '--pidfile', join(dir, 'd.pid'),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => daemon.kill('SIGKILL'))]);
    }
    // dockerd leaves its network namespace mounted under the exec root.
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
    for (const mount of mounts.sort().reverse()) execFileSync('umount', [mount]);
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env, stdio: 'ignore', timeout: 5_000 });
      return { host, env, stop };
    } catch {
      if (daemon.exitCode !== null) break;
      await sleep(250);
    }
  }
  const pid = await readFile(join(dir, 'd.pid'), 'utf8').catch(() => 'none');
  await stop();
  throw new Error(`a second dockerd on ${host} did not start (pid file: ${pid}):\n${log}`);
}
