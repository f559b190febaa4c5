// A test that needs a real component fails loudly, naming what to install,
// instead of skipping: a skipped test would hide what does not work.
import { execFileSync } from 'node:child_process';

const INSTALL: Record<string, string> = {
  docker: 'apt-get install docker.io, and start dockerd (.ci/run does both)',
  git: 'apt-get install git',
  xz: 'apt-get install xz-utils',
  debootstrap: 'apt-get install debootstrap',
  nginx: 'apt-get install nginx',
  supervisord: 'apt-get install supervisor',
  'redis-server': 'apt-get install redis-server',
  'docker-registry': 'apt-get install docker-registry',
  htpasswd: 'apt-get install apache2-utils',
  curl: 'apt-get install curl',
  cron: 'apt-get install cron',
  circusd: 'python3 -m venv /opt/circus && /opt/circus/bin/pip install circus && ln -s /opt/circus/bin/circusd /opt/circus/bin/circusctl /usr/local/bin/ (scripts/setup.sh does it)',
  flock: 'apt-get install util-linux',
  unshare: 'apt-get install util-linux',
};

export function requireCommands(...commands: string[]): void {
  for (const command of commands) {
    try {
      execFileSync('sh', ['-c', `command -v "$1"`, 'sh', command], { stdio: 'ignore' });
    } catch {
      throw new Error(`prerequisite missing: ${command} (${INSTALL[command] ?? `install ${command}`})`);
    }
  }
  if (commands.includes('docker')) {
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 20_000 });
    } catch {
      throw new Error('prerequisite missing: a docker daemon (start dockerd --bridge=none --iptables=false --ip6tables=false, as .ci/run does)');
    }
  }
}
