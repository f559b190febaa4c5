// The kit's own folders under data_root: created when missing, then given their
// owner and mode. A setgid bit already on a folder (a folder shared with a group,
// as image:dev's editor volume) is kept: without it, what the services write
// there would stop inheriting the folder's group.
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function ensureDir(dir: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  // The parents it makes get the default mode, not the folder's (mkdir -p would give them `mode` too).
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, mode | ((await stat(dir)).mode & 0o2000));
}
