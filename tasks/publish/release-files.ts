// The files publish works from: the run's uploadable artifacts or, when the run
// produced none (`gulp publish` alone), dist/release/manifest.json. Every file is
// hashed and checked against what the package step recorded (the artifact's or
// manifest's sha256, SHA256SUMS) before anything leaves the machine.
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { UploadableArtifact } from '../../lib/artifacts.ts';
import type { Context } from '../../lib/context.ts';
import { UserError } from '../../lib/errors.ts';
import { hashFile, type FileDigest } from '../../lib/hash.ts';
import { MANIFEST_FILE, parseSumLine, parseSums, readManifest, SUMS_FILE, type Manifest } from '../../lib/manifest.ts';
import type { Pipe } from '../../lib/pipe.ts';
import type { PublishFile } from './types.ts';

/** Artifacts for the files of a manifest, archives carrying the manifest's size and digests. */
export function manifestArtifacts(dir: string, manifest: Manifest): UploadableArtifact[] {
  const archives = new Map(Object.entries(manifest.binaries ?? {}).map(([binary, entry]) => [entry.file, { binary, entry }]));
  return manifest.files.map((name): UploadableArtifact => {
    const path = join(dir, name);
    const archive = archives.get(name);
    if (archive) {
      const { binary, entry } = archive;
      return { kind: 'archive', binary, path, version: entry.version, commit: entry.commit, size: entry.size, sha256: entry.sha256, md5: entry.md5 };
    }
    if (name === MANIFEST_FILE) return { kind: 'manifest', path };
    const owner = [...archives.keys()].find((file) => name.startsWith(`${file}.`));
    return { kind: 'checksum', path, binary: owner ? archives.get(owner)!.binary : undefined };
  });
}

interface Expected {
  size?: number;
  sha256?: string;
  md5?: string;
  /** Where the expectation comes from, for the error message. */
  from: string;
}

async function expectations(artifacts: readonly UploadableArtifact[]): Promise<Map<string, Expected[]>> {
  const expected = new Map<string, Expected[]>();
  const add = (path: string, value: Expected) => expected.set(path, [...(expected.get(path) ?? []), value]);
  for (const artifact of artifacts) {
    if (artifact.kind === 'archive') add(artifact.path, { size: artifact.size, sha256: artifact.sha256, md5: artifact.md5, from: 'the package step' });
  }
  const sums = artifacts.find((a) => basename(a.path) === SUMS_FILE);
  if (sums) {
    const byName = new Map(artifacts.map((a) => [basename(a.path), a.path]));
    for (const [name, sha256] of parseSums(await readFile(sums.path, 'utf8'))) {
      const path = byName.get(name);
      if (path) add(path, { sha256, from: SUMS_FILE });
    }
  }
  return expected;
}

/**
 * The load step and the publish step both check the files; a file whose inode,
 * size and times are unchanged since it was hashed in this process is not read
 * again (a 1 GiB archive costs seconds to hash).
 */
const hashed = new Map<string, { key: string; digest: FileDigest }>();

async function digestOf(path: string): Promise<FileDigest> {
  const { ino, size, mtimeMs, ctimeMs } = await stat(path);
  const key = `${ino}:${size}:${mtimeMs}:${ctimeMs}`;
  const cached = hashed.get(path);
  if (cached?.key === key) return cached.digest;
  const digest = await hashFile(path);
  hashed.set(path, { key, digest });
  return digest;
}

/** `<archive>.md5` and `<archive>.sha256` must name the archive and hold its digest. */
async function sidecarProblems(artifacts: readonly UploadableArtifact[]): Promise<string[]> {
  const problems: string[] = [];
  for (const archive of artifacts.filter((a) => a.kind === 'archive')) {
    const name = basename(archive.path);
    for (const [algorithm, want] of [['md5', archive.md5], ['sha256', archive.sha256]] as const) {
      const sidecar = artifacts.find((a) => a.path === `${archive.path}.${algorithm}`);
      if (!sidecar) continue;
      const text = await readFile(sidecar.path, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // reported as missing by the hashing below
      const sum = parseSumLine(text);
      if (sum?.hex !== want || sum.name !== name) {
        problems.push(`${basename(sidecar.path)}: says ${JSON.stringify(text.trim().slice(0, 100))}, expected "${want}  ${name}"`);
      }
    }
  }
  return problems;
}

/** Hashes every uploadable artifact and checks it; all problems are reported at once. */
export async function releaseFiles(ctx: Pick<Context, 'artifacts'>): Promise<PublishFile[]> {
  const artifacts = ctx.artifacts.uploadable();
  const names = new Map<string, string>();
  for (const { path } of artifacts) {
    const name = basename(path);
    if (names.has(name) && names.get(name) !== path) throw new UserError(`two files would be published as ${name}: ${names.get(name)} and ${path}`);
    names.set(name, path);
  }
  const expected = await expectations(artifacts);
  const files: PublishFile[] = [];
  const problems = await sidecarProblems(artifacts);
  for (const [name, path] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
    let digest;
    try {
      digest = await digestOf(path);
    } catch (error) {
      problems.push(`${name}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `missing (${path})` : (error as Error).message}`);
      continue;
    }
    for (const want of expected.get(path) ?? []) {
      if (want.size !== undefined && want.size !== digest.size) problems.push(`${name}: ${digest.size} bytes, ${want.from} recorded ${want.size}`);
      if (want.sha256 !== undefined && want.sha256 !== digest.sha256) problems.push(`${name}: sha256 ${digest.sha256}, ${want.from} recorded ${want.sha256}`);
      if (want.md5 !== undefined && want.md5 !== digest.md5) problems.push(`${name}: md5 ${digest.md5}, ${want.from} recorded ${want.md5}`);
    }
    files.push({ name, path, size: digest.size, sha256: digest.sha256 });
  }
  if (problems.length > 0) {
    throw new UserError(`the release files do not match what was packaged; nothing was published:\n  ${[...new Set(problems)].join('\n  ')}\n(run \`gulp package\` again)`);
  }
  return files;
}

/** Loads dist/release/ when this run produced no artifacts, and checks it before any upload. */
export const loadReleasePipe: Pipe = {
  name: 'publish:load',
  holds: (ctx) => ctx.paths.releaseLock,
  skip: (ctx) => (ctx.artifacts.uploadable().length > 0 ? 'this run packaged the release files' : false),
  async run(ctx) {
    const manifest = await readManifest(ctx.paths.release);
    if (!manifest) throw new UserError(`nothing to publish: ${join(ctx.paths.release, MANIFEST_FILE)} does not exist (run \`gulp package\` first, or \`gulp release\`)`);
    for (const artifact of manifestArtifacts(ctx.paths.release, manifest)) ctx.artifacts.add(artifact);
    const files = await releaseFiles(ctx);
    ctx.log.info(`publish: ${files.length} files from ${join(ctx.paths.release, MANIFEST_FILE)}, checksums verified`);
  },
};
