// A project for the launcher tests: a gulpfile importing the kit's sources, a
// pillar with every service on free loopback ports, Debian's docker-registry as
// the registry binary, the echo fixture plugin, and a real
// docker CLI with its own config dir. Everything started is stopped at teardown
// by pid (the supervisor's pid file), never by name.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useGulpCli } from './build-project.ts';
import { REPO_ROOT, runGulp, type GulpRun } from './gulp.ts';
import { freePort } from './render-project.ts';

export const ECHO_PLUGIN = join(REPO_ROOT, 'test/fixtures/plugins/echo.ts');
export const READONLY_PASSWORD = 'readonly-Pa55w0rd-for-tests';
/** For a user a test adds to the pillar as {env: NEW_USER_PASSWORD}. */
export const NEW_USER_PASSWORD = 'new-user-Pa55w0rd-123';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}): Promise<Exec> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: { ...process.env, ...options.env }, timeout: options.timeout ?? 180_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

export interface StackProject {
  dir: string;
  data: string;
  ports: { http: number; https: number; registry: number; debug: number; auth: number; redis: number; sshd: number; echo: number };
  /** host:port of nginx's TLS listener, as docker names the registry. */
  registry: string;
  env: NodeJS.ProcessEnv;
  gulp(args: string[], env?: NodeJS.ProcessEnv): Promise<GulpRun>;
  /** `gulp up ARGS`; resolves when it exits. */
  up(args?: string[]): Promise<GulpRun>;
  /** Rewrites the pillar with these keys over the base. */
  setPillar(extra: object): Promise<void>;
  /** docker with this project's config dir (its logins). */
  docker(args: string[], input?: string): Promise<Exec>;
  /** docker with an empty config dir: no credentials. */
  anonymousDocker(args: string[]): Promise<Exec>;
  adminPassword(): Promise<string>;
  /** A small image imported from a tarball (no registry pull); returns its reference. */
  importImage(name: string): Promise<string>;
  supervisorPid(): number | undefined;
  /** Stops the stack if it runs, untrusts the CA, removes the images and the directory. */
  cleanup(): Promise<void>;
}

export async function stackProject(extra: object = {}): Promise<StackProject> {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-stack-'));
  // The service user (nobody) walks down to data_root.
  await chmod(dir, 0o755);
  const data = join(dir, 'data');
  const ports = { http: await freePort(), https: await freePort(), registry: await freePort(), debug: await freePort(), auth: await freePort(), redis: await freePort(), sshd: await freePort(), echo: await freePort() };
  const registry = `127.0.0.1:${ports.https}`;
  // The kit's sources through tsx (the package's compiled build is tested by the consumer tests), with the consumer fixture's plain gulp config.
  await useGulpCli(dir, { quiet: false });
  const base = {
    data_root: data,
    user: 'nobody',
    group: 'nogroup',
    domain: 'registry.test',
    ports: { http: ports.http, https: ports.https },
    auth: { mode: 'htpasswd' },
    registry: { port: ports.registry, debug_addr: `127.0.0.1:${ports.debug}` },
    auth_server: { port: ports.auth },
    redis: { port: ports.redis },
    sshd: { host: '127.0.0.1', port: ports.sshd },
    binaries: { registry: { path: '/usr/bin/docker-registry' } },
    plugins: [ECHO_PLUGIN],
    plugins_config: { echo: { port: ports.echo } },
  };
  const pillarFile = join(dir, 'pillar', 'local.yml');
  await mkdir(join(dir, 'pillar'));
  const setPillar = async (more: object) => writeFile(pillarFile, stringify({ ...base, ...extra, ...more }));
  await setPillar({});
  const env = { REGISTRY_READONLY_PASSWORD: READONLY_PASSWORD, NEW_USER_PASSWORD };
  const dockerConfig = join(dir, 'docker-config');
  const emptyConfig = join(dir, 'docker-anonymous');
  await mkdir(dockerConfig);
  await mkdir(emptyConfig);
  const certs = `/etc/docker/certs.d/${registry}`;
  const images: string[] = [];
  let imported = 0;
  const project: StackProject = {
    dir,
    data,
    ports,
    registry,
    env,
    gulp: (args, more = {}) => runGulp(dir, args, { ...env, ...more }),
    up: (args = []) => new Promise((resolve, reject) => {
      const child = spawnUp(project, args);
      let stdout = '';
      let stderr = '';
      let all = '';
      child.stdout!.on('data', (chunk: Buffer) => ((stdout += chunk), (all += chunk)));
      child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk), (all += chunk)));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, all }));
    }),
    setPillar,
    docker: (args, input) => exec('docker', args, { env: { DOCKER_CONFIG: dockerConfig }, input }),
    anonymousDocker: (args) => exec('docker', args, { env: { DOCKER_CONFIG: emptyConfig } }),
    adminPassword: async () => (await readFile(join(data, 'secrets', 'users.admin.password'), 'utf8')).trim(),
    async importImage(name) {
      const work = join(dir, `image-${imported++}`);
      await mkdir(work);
      await writeFile(join(work, 'content.txt'), `${name} ${Math.random()}\n`);
      const tarball = `${work}.tar`;
      const tar = await exec('tar', ['-C', work, '-cf', tarball, 'content.txt']);
      if (tar.code !== 0) throw new Error(tar.stderr);
      const reference = `${registry}/${name}`;
      images.push(reference);
      const made = await exec('docker', ['import', tarball, reference]);
      if (made.code !== 0) throw new Error(`docker import: ${made.stderr}`);
      return reference;
    },
    supervisorPid() {
      for (const file of ['supervisord.pid', 'circusd.pid']) {
        const path = join(data, 'run', file);
        if (existsSync(path)) {
          const pid = Number(readFileSync(path, 'utf8').trim());
          if (pid > 0 && isAlive(pid)) return pid;
        }
      }
      return undefined;
    },
    async cleanup() {
      if (project.supervisorPid() !== undefined) await project.gulp(['down']);
      // Whatever is still alive in the supervisor's process group (a failed test's leftovers), by pid.
      const pid = project.supervisorPid();
      if (pid !== undefined) killGroup(pid);
      await rm(certs, { recursive: true, force: true });
      for (const image of images) await exec('docker', ['rmi', '-f', image]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await mkdir(certs, { recursive: true });
  return project;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Trusts the project's test CA for its registry host:port (removed at teardown). */
export async function trustCa(project: StackProject): Promise<void> {
  await writeFile(`/etc/docker/certs.d/${project.registry}/ca.crt`, await readFile(join(project.data, 'ca', 'ca.crt')));
}

/** The digest a push or pull printed. */
export function digestOf(output: string): string | undefined {
  return /(?:digest|Digest): (sha256:[0-9a-f]{64})/.exec(output)?.[1];
}

/** Every /proc/<pid>/cmdline, for "no secret in the process list". */
export function allCommandLines(): string {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => {
    try {
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return '';
    }
  }).join('\n');
}

export interface StatusJson {
  running: boolean;
  healthy: boolean;
  supervisor: { kind: string; pid: number };
  processes: { name: string; state: string; pid: number | null; uptime: number | null; restarts: number }[];
  checks: { name: string; ok: boolean; detail: string }[];
}

export async function statusJson(project: StackProject): Promise<{ run: GulpRun; status: StatusJson }> {
  const run = await project.gulp(['status', '--json', '--quiet']);
  const start = run.stdout.indexOf('{');
  return { run, status: JSON.parse(run.stdout.slice(start, run.stdout.lastIndexOf('}') + 1)) as StatusJson };
}

/**
 * `gulp up`: node gets tsx itself and gulp-cli is told not to re-spawn, so the
 * process is the one running `up` (the one a signal must reach).
 */
function spawnUp(project: StackProject, args: readonly string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import=tsx', join(REPO_ROOT, 'node_modules/gulp/bin/gulp.js'), '--no-respawning', '--cwd', project.dir, 'up', ...args], {
    cwd: project.dir,
    env: { ...process.env, ...project.env, CI: 'true', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `gulp up` in the foreground; resolves once it printed that the stack is healthy. */
export function foregroundUp(project: StackProject): Promise<{ child: ReturnType<typeof spawn>; output: () => string; exited: Promise<number | null> }> {
  const child = spawnUp(project, []);
  let all = '';
  // 'exit', not 'close': a stack left behind would hold the output pipe open.
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      all += chunk;
      if (/the stack is healthy/.test(all)) resolve({ child, output: () => all, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`up exited with ${code} before the stack was healthy:\n${all}`)));
  });
}
