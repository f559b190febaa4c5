// The kit's own folders under data_root: created when missing, then given their
// owner and mode. A setgid bit already on a folder (a folder shared with a group,
// as image:dev's editor volume) is kept: without it, what the services write
// there would stop inheriting the folder's group.
import { chmod, chown, mkdir, stat } from 'node:fs/promises';

export async function ensureDir(dir: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, mode | ((await stat(dir)).mode & 0o2000));
}
