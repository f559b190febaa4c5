// dist/release/manifest.json: what the package step wrote, so that publish (or
// another machine) can work from the release directory alone; and the
// md5sum/sha256sum line format its checksum files use.
import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { formatProblem } from '../pillar/problems.ts';
import { GitRef, ProcessName, strictObject, typedRecord } from '../pillar/types.ts';
import { validate } from '../pillar/validate.ts';
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

/** A file directly in the release folder: no `/`, no `..`, no leading dot. */
const FileName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$', title: 'file name in the release folder (no / or ..)' });
const hex = (digits: number, title: string) => Type.String({ pattern: `^[0-9a-f]{${digits}}$`, title });

const ManifestBinarySchema = strictObject({
  version: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$', title: 'version (letters, digits, . _ + -)' }),
  ref: GitRef,
  commit: Type.String({ pattern: '^[0-9a-f]{40}(?:[0-9a-f]{24})?$', title: 'git commit id (40 or 64 hex digits)' }),
  builder_image_id: Type.String({ pattern: '^(?:sha256:)?[0-9a-f]{64}$', title: 'image id (sha256:<64 hex digits>)' }),
  file: FileName,
  size: Type.Integer({ minimum: 0, title: 'size in bytes' }),
  sha256: hex(64, 'sha256 (64 lowercase hex digits)'),
  md5: hex(32, 'md5 (32 lowercase hex digits)'),
});

const ManifestSchema = strictObject({
  schema: Type.Literal(1, { title: 'manifest schema 1' }),
  binaries: typedRecord(ProcessName, ManifestBinarySchema),
  files: Type.Array(FileName, { minItems: 1, uniqueItems: true, title: 'list of the release\'s file names' }),
});

/** Every file a release of these binaries consists of, sorted: each archive, its .md5 and .sha256, SHA256SUMS, manifest.json. */
export function releaseFileNames(binaries: Iterable<Pick<ManifestBinary, 'file'>>): string[] {
  return [...[...binaries].flatMap((b) => [b.file, `${b.file}.md5`, `${b.file}.sha256`]), SUMS_FILE, MANIFEST_FILE].sort();
}

/** What is wrong with a parsed manifest: its schema (like the pillar's), then whether its file list is the one its binaries make. */
function manifestProblems(manifest: unknown): string[] {
  const problems = validate(ManifestSchema, manifest).map((p) => formatProblem({ ...p, path: p.path || '(manifest)' }));
  if (problems.length > 0) return problems;
  const { binaries, files } = manifest as Manifest;
  const owners = new Map<string, string>();
  for (const [name, entry] of Object.entries(binaries)) {
    const other = owners.get(entry.file);
    if (other) problems.push(`binaries.${name}.file: expected a file of its own, got ${JSON.stringify(entry.file)}, which is also binaries.${other}.file`);
    owners.set(entry.file, name);
  }
  const expected = releaseFileNames(Object.values(binaries));
  const extra = files.filter((f) => !expected.includes(f));
  const missing = expected.filter((f) => !files.includes(f));
  if (extra.length > 0 || missing.length > 0) {
    const what = [extra.length ? `not part of the release: ${extra.map((f) => JSON.stringify(f)).join(', ')}` : '', missing.length ? `missing: ${missing.map((f) => JSON.stringify(f)).join(', ')}` : ''].filter(Boolean).join('; ');
    problems.push(`files: expected the archives of "binaries" with their .md5 and .sha256, ${SUMS_FILE} and ${MANIFEST_FILE}, got a list with files ${what}`);
  }
  return problems;
}

/**
 * The text of a file of the release folder: a regular file, read without following
 * a symlink (one planted there would have publish quote, or send, a file from
 * anywhere); undefined when there is none.
 */
export async function readReleaseText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EISDIR') throw new UserError(`${path}: not a regular file; only regular files of the release folder are read`);
    throw error;
  }
}

/** The release directory's manifest, checked (undefined when there is none). */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = join(dir, MANIFEST_FILE);
  const text = await readReleaseText(file);
  if (text === undefined) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which is not ours to print.
    throw new UserError(`${file}: not valid JSON (run \`gulp package\` to write it again)`);
  }
  const problems = manifestProblems(manifest);
  if (problems.length > 0) throw new UserError(`${file} is not a manifest corpus-kit wrote (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  return manifest as Manifest;
}
