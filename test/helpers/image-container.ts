// A running image container, for the image tests: docker with its output, the
// wait for health, and its processes as the kernel has them (/proc inside it):
// the program (comm), its command line, and every uid and gid it holds (real,
// effective, saved, file system), so a process that only switched its effective
// user is not taken for one that dropped root.
import { execFileSync, spawnSync } from 'node:child_process';

export const docker = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) => {
  const out = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 300_000 });
  return { code: out.status, out: `${out.stdout}${out.stderr}`.trim() };
};

/** Waits until the container is healthy (or exited); its last "status health" state. */
export async function healthy(name: string, timeoutMs = 600_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let state = '';
  while (Date.now() < until) {
    state = docker(['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', name]).out;
    if (state === 'running healthy' || state.startsWith('exited')) return state;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return state;
}

export interface ContainerProcess {
  pid: number;
  comm: string;
  args: string;
  /** Real, effective, saved and file-system ids. */
  uids: number[];
  gids: number[];
}

/** One line per process: pid|comm|uids|gids|args (a process that ends while read is left out). */
const LIST = String.raw`for d in /proc/[0-9]*; do
  comm=$(cat "$d/comm" 2>/dev/null) && ids=$(grep -E '^(Uid|Gid):' "$d/status" 2>/dev/null | cut -f2- | tr '\t\n' ' |') || continue
  printf '%s|%s|%s%s\n' "$(basename "$d")" "$comm" "$ids" "$(tr '\0\n' '  ' < "$d/cmdline" 2>/dev/null)"
done`;

export function containerProcesses(container: string): ContainerProcess[] {
  const out = execFileSync('docker', ['exec', container, 'sh', '-c', LIST], { encoding: 'utf8' });
  return out.split('\n').flatMap((line) => {
    const [pid, comm, uids, gids, ...args] = line.split('|');
    const ids = (s: string | undefined) => (s ?? '').trim().split(' ').filter(Boolean).map(Number);
    if (!pid || !comm || ids(uids).length !== 4 || ids(gids).length !== 4) return [];
    return [{ pid: Number(pid), comm, args: args.join('|').trim(), uids: ids(uids), gids: ids(gids) }];
  });
}

/** Numeric uid and gid of a user inside the container. */
export function containerUser(container: string, user: string): { uid: number; gid: number } {
  const [uid, gid] = execFileSync('docker', ['exec', container, 'sh', '-c', 'id -u "$1"; id -g "$1"', 'sh', user], { encoding: 'utf8' }).trim().split('\n').map(Number);
  return { uid: uid!, gid: gid! };
}

/** The processes of `list` not running wholly (every uid and gid) as `id`, described for an assertion message. */
export function notRunningAs(list: ContainerProcess[], id: { uid: number; gid: number }): string[] {
  return list.filter((p) => !p.uids.every((u) => u === id.uid) || !p.gids.every((g) => g === id.gid)).map((p) => `pid ${p.pid} ${p.comm} uids ${p.uids.join(',')} gids ${p.gids.join(',')}: ${p.args}`);
}
