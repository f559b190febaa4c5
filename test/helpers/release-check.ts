// What a release folder (dist/release/ or a published copy) must be, checked
// the way a consumer would: `sha256sum -c SHA256SUMS` passes, and every archive
// the manifest lists decompresses to a program that says it is the version and
// commit the manifest names.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../../lib/manifest.ts';

/** The release in `dir`, verified; returns "name@version" per binary. Throws what is wrong. */
export async function verifyRelease(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  execFileSync('sha256sum', ['--check', '--strict', '--quiet', 'SHA256SUMS'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const work = await mkdtemp(join(tmpdir(), 'corpus-kit-verify-'));
  try {
    const found: string[] = [];
    for (const [name, entry] of Object.entries(manifest.binaries)) {
      const program = join(work, name);
      await writeFile(program, execFileSync('xz', ['--decompress', '--stdout', join(dir, entry.file)], { maxBuffer: 1 << 30 }));
      await chmod(program, 0o755);
      const says = execFileSync(program, { encoding: 'utf8' });
      if (!says.includes(`version=${entry.version} commit=${entry.commit}`)) {
        throw new Error(`${join(dir, entry.file)}: the manifest says ${entry.version} (${entry.commit}), the program says ${JSON.stringify(says.trim())}`);
      }
      found.push(`${name}@${entry.version}`);
    }
    return found.sort();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
