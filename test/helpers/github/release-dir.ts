// A dist/release/ of our own for publish tests, laid out as the package step
// writes it (lib/manifest.ts): <bin>-<version>.xz, .xz.md5, .xz.sha256,
// SHA256SUMS and manifest.json. The archives are plain bytes: publish never
// looks inside them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, SUMS_FILE, type Manifest } from '../../../lib/manifest.ts';

export const VERSIONS: Record<string, string> = { registry: 'v2.8.3', auth_server: '1.14.0' };

const hex = (algorithm: string, data: Buffer | string) => createHash(algorithm).update(data).digest('hex');

export interface ReleaseDir {
  dir: string;
  /** Every file name, sorted (what manifest.json's files says). */
  files: string[];
  /** name → bytes of every file. */
  contents: Map<string, Buffer>;
}

/** Writes the release directory for these archive contents (random bytes by default). */
export async function writeReleaseDir(dir: string, archives: Record<string, Buffer> = {
  registry: randomBytes(200 * 1024 + 17),
  auth_server: randomBytes(90 * 1024 + 3),
}): Promise<ReleaseDir> {
  await mkdir(dir, { recursive: true });
  const contents = new Map<string, Buffer>();
  const manifest: Manifest = { schema: 1, binaries: {}, files: [] };
  for (const [binary, data] of Object.entries(archives)) {
    const version = VERSIONS[binary] ?? '1.0.0';
    const file = `${binary}-${version}.xz`;
    const sha256 = hex('sha256', data);
    const md5 = hex('md5', data);
    contents.set(file, data);
    contents.set(`${file}.md5`, Buffer.from(`${md5}  ${file}\n`));
    contents.set(`${file}.sha256`, Buffer.from(`${sha256}  ${file}\n`));
    manifest.binaries[binary] = {
      version, ref: version, commit: hex('sha1', binary), builder_image_id: `sha256:${hex('sha256', `builder-${binary}`)}`,
      file, size: data.length, sha256, md5,
    };
  }
  const archivesSorted = [...contents.keys()].filter((n) => n.endsWith('.xz')).sort();
  contents.set(SUMS_FILE, Buffer.from(archivesSorted.map((n) => `${hex('sha256', contents.get(n)!)}  ${n}\n`).join('')));
  manifest.files = [...contents.keys(), MANIFEST_FILE].sort();
  contents.set(MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  for (const [name, data] of contents) await writeFile(join(dir, name), data);
  return { dir, files: manifest.files, contents };
}
