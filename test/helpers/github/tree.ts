// One digest of a whole folder tree as a reader sees it: every entry's relative
// path, type, mode, and a file's bytes or a symlink's target (hidden entries too).
// Equal digests before and after mean nothing in the tree was written.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const stat = await lstat(path);
      const line = `${rel}${name}\0${stat.mode.toString(8)}\0`;
      if (stat.isSymbolicLink()) hash.update(`${line}link\0${await readlink(path)}\n`);
      else if (stat.isDirectory()) {
        hash.update(`${line}dir\n`);
        await walk(path, `${rel}${name}/`);
      } else hash.update(`${line}file\0${createHash('sha256').update(await readFile(path)).digest('hex')}\n`);
    }
  }
  const top = await lstat(root);
  // A root that is a symlink is followed (publish.local.dir/<tag>/ is one), and its target named.
  hash.update(top.isSymbolicLink() ? `root\0link\0${await readlink(root)}\n` : 'root\n');
  await walk(root, '');
  return hash.digest('hex');
}
