// A dist/release/ of our own for publish tests, laid out as the package step
// writes it (lib/manifest.ts): <bin>-<version>.xz, .xz.md5, .xz.sha256,
// SHA256SUMS and manifest.json. The archives are plain bytes: publish never
// looks inside them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileDigest } from '../../../lib/hash.ts';
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

export interface PackagedArchive {
  binary: string;
  version: string;
  /** `<bin>-<version>.xz`, already in the release directory. */
  file: string;
  digest: FileDigest;
}

/**
 * The rest of a release directory around archives already in it: .md5, .sha256,
 * SHA256SUMS and manifest.json, as the package step writes them. Returns every
 * file name of the release, sorted, and the bytes of the files it wrote.
 */
export async function writeReleaseMetadata(dir: string, archives: readonly PackagedArchive[]): Promise<{ files: string[]; written: Map<string, Buffer> }> {
  const written = new Map<string, Buffer>();
  const manifest: Manifest = { schema: 1, binaries: {}, files: [] };
  for (const { binary, version, file, digest } of archives) {
    written.set(`${file}.md5`, Buffer.from(`${digest.md5}  ${file}\n`));
    written.set(`${file}.sha256`, Buffer.from(`${digest.sha256}  ${file}\n`));
    manifest.binaries[binary] = {
      version, ref: version, commit: hex('sha1', binary), builder_image_id: `sha256:${hex('sha256', `builder-${binary}`)}`,
      file, size: digest.size, sha256: digest.sha256, md5: digest.md5,
    };
  }
  const sorted = [...archives].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  written.set(SUMS_FILE, Buffer.from(sorted.map((a) => `${a.digest.sha256}  ${a.file}\n`).join('')));
  manifest.files = [...archives.map((a) => a.file), ...written.keys(), MANIFEST_FILE].sort();
  written.set(MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  for (const [name, data] of written) await writeFile(join(dir, name), data);
  return { files: manifest.files, written };
}

/** Writes the release directory for these archive contents (random bytes by default). */
export async function writeReleaseDir(dir: string, archives: Record<string, Buffer> = {
  registry: randomBytes(200 * 1024 + 17),
  auth_server: randomBytes(90 * 1024 + 3),
}): Promise<ReleaseDir> {
  await mkdir(dir, { recursive: true });
  const contents = new Map<string, Buffer>();
  const packaged: PackagedArchive[] = [];
  for (const [binary, data] of Object.entries(archives)) {
    const version = VERSIONS[binary] ?? '1.0.0';
    const file = `${binary}-${version}.xz`;
    contents.set(file, data);
    await writeFile(join(dir, file), data);
    packaged.push({ binary, version, file, digest: { size: data.length, sha256: hex('sha256', data), md5: hex('md5', data) } });
  }
  const { files, written } = await writeReleaseMetadata(dir, packaged);
  for (const [name, data] of written) contents.set(name, data);
  return { dir, files, contents };
}
