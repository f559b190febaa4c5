// Upload benchmark: a 1 GiB release file published to the GitHub emulator by the
// real `publish` task in a child process, against `curl --data-binary @file` to
// the same upload endpoint in the same run. Prints the child's peak RSS (memory
// must stay flat whatever the file size) and the upload throughput of both, as
// the emulator measured them (request start to end; it hashes and discards the body).
// curl's --data-binary @file cannot take 1 GiB (see curlUpload): at that size it streams with -T.
//   node --import=tsx bench/upload.ts [--size-mib 1024] [--rounds 3]
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hashFile } from '../lib/hash.ts';
import { GitHubEmulator, type RecordedRequest } from '../test/helpers/github/emulator.ts';
import { writeReleaseMetadata } from '../test/helpers/github/release-dir.ts';

const TOKEN = 'ghp_BenchmarkT0kenForTheEmulat0r42';
const REPO = 'bench/corpus';
const VERSION = 'v9.9.9';
const FILE = `registry-${VERSION}.xz`;

/** The child: the real publish task, then its peak RSS on the last stdout line. */
async function child(cwd: string, baseUrl: string, tag: string): Promise<void> {
  const { createTasks } = await import('../index.ts');
  const tasks = await createTasks({
    cwd,
    argv: [],
    env: { GITHUB_TOKEN: TOKEN, PATH: process.env.PATH },
    pillar: [{ data_root: join(cwd, 'data'), publish: { target: 'github', github: { repo: REPO, tag, base_url: baseUrl } } }],
    logger: { out: () => undefined },
  });
  await tasks.publish!();
  process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

async function writeBigFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(4 * 1024 * 1024);
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** A dist/release/ with the big file, its checksum files and manifest.json, laid out as the tests' (lib/manifest.ts). */
async function writeRelease(dir: string, bytes: number): Promise<void> {
  await writeBigFile(join(dir, FILE), bytes);
  await writeReleaseMetadata(dir, [{ binary: 'registry', version: VERSION, file: FILE, digest: await hashFile(join(dir, FILE)) }]);
}

function runChild(cwd: string, baseUrl: string, tag: string): Promise<{ maxRssKiB: number; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import=tsx', fileURLToPath(import.meta.url), '--child', cwd, baseUrl, tag], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true' } });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`publish child exited ${code}`));
      resolve({ ...(JSON.parse(out.trim().split('\n').pop()!) as { maxRssKiB: number }), seconds: (performance.now() - started) / 1000 });
    });
  });
}

async function curlUpload(emulator: GitHubEmulator, dir: string, path: string, name: string): Promise<void> {
  // The release to upload to, and the token in a header file: never on a command line.
  const releaseId = emulator.seedRelease(REPO, { tag: `curl-${name}` });
  const headers = join(dir, 'curl-headers');
  await writeFile(headers, `Authorization: Bearer ${TOKEN}\nContent-Type: application/octet-stream\n`, { mode: 0o600 });
  const url = `${emulator.hosts.uploads}/repos/${REPO}/releases/${releaseId}/assets?name=${name}`;
  // `--data-binary @file` reads the file into memory and curl refuses files of 1 GiB and more
  // ("out of memory": its limit is 1 GiB), so from there on curl streams it with -T, as a POST.
  const body = (await stat(path)).size < 1024 ** 3 ? ['--data-binary', `@${path}`] : ['-X', 'POST', '-T', path];
  const { stdout } = await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `@${headers}`, ...body, url]);
  if (stdout.trim() !== '201') throw new Error(`curl upload answered ${stdout}`);
}

const mibPerSecond = (r: RecordedRequest) => r.bytes / 1024 / 1024 / ((r.endedAt - r.startedAt) / 1000);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, rounds: { type: 'string', default: '3' } } });
  const bytes = Number(values['size-mib']) * 1024 * 1024;
  const rounds = Number(values.rounds);
  const cwd = await mkdtemp(join(tmpdir(), 'corpus-kit-bench-upload-'));
  const emulator = await GitHubEmulator.start({ token: TOKEN, keepBodies: false });
  try {
    const release = join(cwd, 'dist/release');
    await mkdir(release, { recursive: true });
    process.stderr.write(`bench/upload: writing a ${values['size-mib']} MiB release file ...\n`);
    await writeRelease(release, bytes);
    // The same task on a file 16 times smaller: memory that stays flat shows as the same peak.
    const small = join(cwd, 'small');
    await mkdir(join(small, 'dist/release'), { recursive: true });
    await writeRelease(join(small, 'dist/release'), bytes / 16);
    const baseline = await runChild(small, emulator.baseUrl, 'bench-small');
    const kit: number[] = [];
    const curl: number[] = [];
    const rss: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate, so that neither side always runs on a warmer machine.
      await curlUpload(emulator, cwd, join(release, FILE), `curl-${round}.bin`);
      curl.push(mibPerSecond(emulator.requests.filter((r) => r.server === 'uploads' && r.path.includes(`name=curl-${round}.bin`))[0]!));
      const result = await runChild(cwd, emulator.baseUrl, `bench-${round}`);
      const uploads = emulator.requests.filter((r) => r.server === 'uploads' && r.status === 201 && r.path.endsWith(`-${FILE}`));
      kit.push(mibPerSecond(uploads[uploads.length - 1]!));
      rss.push(result.maxRssKiB / 1024);
      process.stderr.write(`round ${round}: curl ${curl[round - 1]!.toFixed(0)} MiB/s, publish ${kit[round - 1]!.toFixed(0)} MiB/s, publish peak RSS ${rss[round - 1]!.toFixed(0)} MiB, publish task ${result.seconds.toFixed(1)}s\n`);
    }
    const ratio = median(kit) / median(curl);
    console.log(`upload of ${values['size-mib']} MiB to the GitHub emulator (loopback), median of ${rounds} rounds:`);
    console.log(`  publish task peak RSS: ${Math.max(...rss).toFixed(0)} MiB (whole process: node, tsx, gulp, octokit); with a ${(bytes / 16 / 1024 / 1024).toFixed(0)} MiB file: ${(baseline.maxRssKiB / 1024).toFixed(0)} MiB`);
    console.log(`  publish upload:        ${median(kit).toFixed(0)} MiB/s`);
    console.log(`  curl ${bytes < 1024 ** 3 ? '--data-binary @file' : '-X POST -T file'}: ${median(curl).toFixed(0)} MiB/s`);
    console.log(`  throughput ratio publish/curl: ${ratio.toFixed(2)}`);
  } finally {
    await emulator.stop();
    await rm(cwd, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1]!, argv[2]!, argv[3]!);
else await main();
