// dist/release/manifest.json: what the package step wrote, so that publish (or
// another machine) can work from the release directory alone; and the
// md5sum/sha256sum line format its checksum files use.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors.ts';

export const MANIFEST_FILE = 'manifest.json';
export const SUMS_FILE = 'SHA256SUMS';

export interface ManifestBinary {
  version: string;
  ref: string;
  commit: string;
  /** Image id (sha256:...) of the builder the binary was compiled in. */
  builder_image_id: string;
  /** `<bin>-<version>.xz`, relative to the release directory. */
  file: string;
  size: number;
  sha256: string;
  md5: string;
}

export interface Manifest {
  schema: 1;
  binaries: Record<string, ManifestBinary>;
  /** Every file of the release directory that is published, sorted, manifest.json included. */
  files: string[];
}

/** One checksum file line as md5sum and sha256sum write it: "<hex>  <file>". */
export const sumLine = (hex: string, file: string) => `${hex}  ${file}\n`;

/** One `md5sum`/`sha256sum` line: "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode). */
export function parseSumLine(line: string): { hex: string; name: string } | undefined {
  const match = /^([0-9a-f]+) [ *](.+)$/.exec(line.trim());
  return match ? { hex: match[1]!, name: match[2]! } : undefined;
}

/** `sha256sum` output: name → sha256, from every line that is one. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sum = parseSumLine(line);
    if (sum?.hex.length === 64) sums.set(sum.name, sum.hex);
  }
  return sums;
}

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** The release directory's manifest, checked (undefined when there is none). */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = join(dir, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`${file}: ${(error as Error).message}`);
  }
  const bad = (what: string) => new UserError(`${file}: ${what}`);
  if (manifest?.schema !== 1) throw bad(`expected "schema": 1, got ${JSON.stringify(manifest?.schema)}`);
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) throw bad('expected "files": a non-empty list of file names');
  const unsafe = manifest.files.filter((name) => typeof name !== 'string' || !PLAIN_NAME.test(name));
  if (unsafe.length > 0) throw bad(`"files" must hold plain file names of the release directory, got ${unsafe.map((n) => JSON.stringify(n)).join(', ')}`);
  return manifest;
}
