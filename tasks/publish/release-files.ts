// The files publish works from: the run's uploadable artifacts or, when the run
// produced none (`gulp publish` alone), dist/release/manifest.json. Every file is
// hashed and checked against what the package step recorded (the artifact's or
// manifest's sha256, SHA256SUMS) before anything leaves the machine.
import { basename, dirname, join } from 'node:path';
import type { UploadableArtifact } from '../../lib/artifacts.ts';
import type { Context } from '../../lib/context.ts';
import { UserError } from '../../lib/errors.ts';
import { hashRegularFile } from '../../lib/hash.ts';
import { MANIFEST_FILE, parseSumLine, parseSums, readManifest, readReleaseText, SUMS_FILE, type Manifest } from '../../lib/manifest.ts';
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

/**
 * What each file must hold, from the package step's artifacts, manifest.json and
 * SHA256SUMS; and what is wrong with the set itself: a file outside the release
 * folder, one manifest.json does not list, an archive SHA256SUMS does not list
 * (or lists with another digest than the manifest), a line for a file that is none.
 */
async function expectations(artifacts: readonly UploadableArtifact[], problems: string[]): Promise<Map<string, Expected[]>> {
  const expected = new Map<string, Expected[]>();
  const add = (path: string, value: Expected) => expected.set(path, [...(expected.get(path) ?? []), value]);
  for (const artifact of artifacts) {
    if (artifact.kind === 'archive') add(artifact.path, { size: artifact.size, sha256: artifact.sha256, md5: artifact.md5, from: 'the package step' });
  }
  const manifestFile = artifacts.find((a) => a.kind === 'manifest');
  if (!manifestFile) {
    problems.push(`${MANIFEST_FILE}: not among the files to publish`);
    return expected;
  }
  const dir = dirname(manifestFile.path);
  const manifest = await readManifest(dir);
  if (!manifest) {
    problems.push(`${MANIFEST_FILE}: missing (${manifestFile.path})`);
    return expected;
  }
  for (const { path } of artifacts) {
    if (dirname(path) !== dir) problems.push(`${basename(path)}: ${path} is outside the release folder ${dir}`);
    else if (!manifest.files.includes(basename(path))) problems.push(`${basename(path)}: not listed in ${MANIFEST_FILE}`);
  }
  const byName = new Map(artifacts.map((a) => [basename(a.path), a.path]));
  for (const name of manifest.files.filter((f) => !byName.has(f))) problems.push(`${name}: listed in ${MANIFEST_FILE} but not among the files to publish`);
  const archives = new Map(Object.values(manifest.binaries).map((entry) => [entry.file, entry]));
  for (const [file, entry] of archives) {
    if (byName.has(file)) add(byName.get(file)!, { size: entry.size, sha256: entry.sha256, md5: entry.md5, from: MANIFEST_FILE });
  }
  const sums = byName.get(SUMS_FILE);
  const listed = parseSums((sums && (await readReleaseText(sums).catch(() => undefined))) ?? '');
  for (const [name, sha256] of listed) {
    const entry = archives.get(name);
    if (!entry) problems.push(`${SUMS_FILE}: lists ${name}, which is no archive of ${MANIFEST_FILE}`);
    else if (entry.sha256 !== sha256) problems.push(`${name}: ${SUMS_FILE} says sha256 ${sha256}, ${MANIFEST_FILE} says ${entry.sha256}`);
    else add(byName.get(name)!, { sha256, from: SUMS_FILE });
  }
  for (const file of archives.keys()) if (!listed.has(file)) problems.push(`${file}: not listed in ${SUMS_FILE}`);
  return expected;
}

/** `<archive>.md5` and `<archive>.sha256` must name the archive and hold its digest. */
async function sidecarProblems(artifacts: readonly UploadableArtifact[]): Promise<string[]> {
  const problems: string[] = [];
  for (const archive of artifacts.filter((a) => a.kind === 'archive')) {
    const name = basename(archive.path);
    for (const [algorithm, want] of [['md5', archive.md5], ['sha256', archive.sha256]] as const) {
      const sidecar = artifacts.find((a) => a.path === `${archive.path}.${algorithm}`);
      if (!sidecar) continue;
      const text = await readReleaseText(sidecar.path).catch(() => undefined);
      if (text === undefined) continue; // reported as missing or not a regular file by the hashing below
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
  const problems = await sidecarProblems(artifacts);
  const expected = await expectations(artifacts, problems);
  const files: PublishFile[] = [];
  for (const [name, path] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
    let digest;
    try {
      digest = (await hashRegularFile(path))?.digest;
      if (!digest) {
        problems.push(`${name}: not a regular file (${path}); only regular files of the release folder are published`);
        continue;
      }
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

/**
 * The files publish:load checked, for the publish step of the same run: each
 * file is hashed once per run (a 1 GiB archive costs seconds).
 */
const checked = new WeakMap<Context, PublishFile[]>();

/** The release files as publish:load checked them in this run, else checked now. */
export async function checkedReleaseFiles(ctx: Context): Promise<PublishFile[]> {
  return checked.get(ctx) ?? releaseFiles(ctx);
}

/** Loads dist/release/ when this run produced no artifacts, and checks it before any upload. */
export const loadReleasePipe: Pipe = {
  name: 'publish:load',
  skip: (ctx) => (ctx.artifacts.uploadable().length > 0 ? 'this run packaged the release files' : false),
  async run(ctx) {
    const manifest = await readManifest(ctx.paths.release);
    if (!manifest) throw new UserError(`nothing to publish: ${join(ctx.paths.release, MANIFEST_FILE)} does not exist (run \`gulp package\` first, or \`gulp release\`)`);
    for (const artifact of manifestArtifacts(ctx.paths.release, manifest)) ctx.artifacts.add(artifact);
    const files = await releaseFiles(ctx);
    checked.set(ctx, files);
    ctx.log.info(`publish: ${files.length} files from ${join(ctx.paths.release, MANIFEST_FILE)}, checksums verified`);
  },
};
