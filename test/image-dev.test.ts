// image:dev: the editor group check on the host (real groups and users made
// for the test, with a test gid), the shared folders through a real container
// run with --shell on a pty, and the default: the launcher in the container,
// the stack on loopback (--network host, test ports).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { editorProblems } from '../tasks/image-dev.ts';
import { REPO_ROOT, runGulp } from './helpers/gulp.ts';
import { imageProject, type ImageProject } from './helpers/image-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { freePort } from './helpers/render-project.ts';

const GULP_BIN = fileURLToPath(new URL('../node_modules/gulp/bin/gulp.js', import.meta.url));
const sh = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim();
const exists = (db: string, key: string) => {
  try {
    sh('getent', db, key);
    return true;
  } catch {
    return false;
  }
};

/** A gid no group has here. */
function freeGid(): number {
  for (;;) {
    const gid = randomInt(61000, 64999);
    if (!exists('group', String(gid))) return gid;
  }
}

/** A group (and optionally a user in it) made for this test, removed when it ends. */
function hostGroup(t: ExecutionContext, name: string, gid: number): void {
  sh('groupadd', '--gid', String(gid), name);
  t.teardown(() => void execFileSync('groupdel', [name], { stdio: 'ignore' }));
}
function hostUser(t: ExecutionContext, name: string, groups: string[] = []): void {
  sh('useradd', '--no-create-home', '--shell', '/bin/sh', ...(groups.length ? ['--groups', groups.join(',')] : []), name);
  t.teardown(() => void execFileSync('userdel', [name], { stdio: 'ignore' }));
}

const noContainer = (name: string) => sh('docker', 'ps', '--all', '--quiet', '--filter', `name=^${name}$`) === '';
const noImage = (project: ImageProject) => sh('docker', 'image', 'ls', '--quiet', project.name) === '';

test('editorProblems: each wrong host state gets its own message and fix', (t) => {
  const wanted = { group: 'editor', gid: 65753 };
  t.deepEqual(editorProblems({ wanted, user: 'ann', byName: { name: 'editor', gid: 65753, members: ['ann'] }, byGid: { name: 'editor', gid: 65753, members: ['ann'] } }), []);
  t.deepEqual(editorProblems({ wanted, user: 'ann', byName: { name: 'editor', gid: 65753, members: [] }, byGid: { name: 'editor', gid: 65753, members: [] }, primaryGid: 65753 }), [], 'the primary group counts');
  t.regex(editorProblems({ wanted, user: 'ann' })[0]!, /`groupadd -g 65753 editor` then `gpasswd -a ann editor`/);
  t.regex(editorProblems({ wanted, user: 'ann', byName: { name: 'editor', gid: 1001, members: ['ann'] } })[0]!, /"editor" has gid 1001 on this host, not 65753/);
  t.regex(editorProblems({ wanted, user: 'ann', byGid: { name: 'staff2', gid: 65753, members: ['ann'] } })[0]!, /gid 65753 \(editor\.gid\) belongs to the group "staff2"/);
  t.regex(editorProblems({ wanted, user: 'ann', byName: { name: 'editor', gid: 65753, members: ['bob'] }, byGid: { name: 'editor', gid: 65753, members: ['bob'] } })[0]!, /"ann" is not in the group "editor": `gpasswd -a ann editor`/);
});

test('image:dev without the editor group, with it under another gid, its gid under another name, or the user outside it: prints the fix and starts nothing', async (t) => {
  requireCommands('useradd', 'groupadd');
  const gid = freeGid();
  const suffix = String(gid);
  const group = `ckt${suffix}`;
  const user = `cku${suffix}`;
  const project = await imageProject(t, { project: `ckt${suffix}`, editor: { group, gid } });
  hostUser(t, user);
  const dev = (env = { SUDO_USER: user }) => project.run('image:dev', [], env);

  let run = await dev();
  t.truthy(run.error);
  t.true(run.all.includes(`\`groupadd -g ${gid} ${group}\` then \`gpasswd -a ${user} ${group}\``), run.all);

  const otherGid = freeGid();
  hostGroup(t, group, otherGid);
  run = await dev();
  t.true(run.all.includes(`the group "${group}" has gid ${otherGid} on this host, not ${gid}`), run.all);

  await project.setPillar({ editor: { group: `ckx${suffix}`, gid: otherGid } });
  run = await dev();
  t.true(run.all.includes(`gid ${otherGid} (editor.gid) belongs to the group "${group}" on this host, not "ckx${suffix}"`), run.all);

  await project.setPillar({ editor: { group, gid: otherGid } });
  run = await dev();
  t.true(run.all.includes(`"${user}" is not in the group "${group}": \`gpasswd -a ${user} ${group}\``), run.all);

  t.true(noContainer(`ckt${suffix}-dev`), 'no container was started');
  t.true(noImage(project), 'no image was built');
});

/** Runs gulp in a pseudo-terminal (script(1)), typing `input`; returns what the terminal showed. */
function onPty(cwd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, GULP_BIN, '--cwd', cwd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, out })));
    // The shell reads what is typed once it runs; typing early is fine on a terminal.
    child.stdin.write(input);
  });
}

test('image:dev --shell on a pty: a file made inside is the editor user\'s to edit outside, an edit outside is seen inside, git works on both sides', async (t) => {
  t.timeout(30 * 60_000, 'builds the image (and its base on a new machine)');
  requireCommands('script', 'runuser', 'useradd', 'groupadd');
  const gid = freeGid();
  const group = `ckt${gid}`;
  const user = `cku${gid}`;
  hostGroup(t, group, gid);
  hostUser(t, user, [group]);
  const project = await imageProject(t, { project: `ckt${gid}`, editor: { group, gid } });
  await chmod(project.dir, 0o755);
  // The project is a git repository of the editor user, as a checkout of theirs would be.
  const work = join(project.dir, 'work');
  await mkdir(work);
  const asUser = (script: string) => execFileSync('runuser', ['-u', user, '--', 'sh', '-c', script], { cwd: work, encoding: 'utf8' });
  // A project whose gulpfile imports the kit, as a consumer's does, with the release it builds the image from.
  await writeFile(join(work, 'pillar.yml'), await readFile(project.pillarFile, 'utf8'));
  await writeFile(join(work, 'gulpfile.ts'), `import gulp from 'gulp';\nimport { createTasks, registerTasks } from ${JSON.stringify(join(REPO_ROOT, 'index.ts'))};\nregisterTasks(gulp, await createTasks({ cwd: import.meta.dirname }));\n`);
  await writeFile(join(work, 'package.json'), '{ "private": true, "type": "module" }\n');
  await writeFile(join(work, '.gulp.cjs'), "module.exports = { nodeFlags: ['--import=tsx'] };\n");
  await writeFile(join(work, '.gitignore'), 'node_modules\ndist\n.cache\n');
  execFileSync('ln', ['-s', join(REPO_ROOT, 'node_modules'), join(work, 'node_modules')]);
  execFileSync('cp', ['-a', join(project.dir, 'dist'), work]);
  execFileSync('chown', ['-R', user, work]);
  asUser('git init -q . && git config user.email e@x && git config user.name e && echo one > tracked.txt && git add -A && git commit -qm one && echo edited-outside >> tracked.txt');

  const { code, out } = await onPty(work, ['image:dev', '--shell', '--pillar', join(work, 'pillar.yml')], [
    '[ -t 0 ] && echo "TTY-$((40+2))"',
    'echo made-inside > inside.txt',
    'grep -c edited-outside tracked.txt | sed "s/^/SEEN-/"',
    'git status --porcelain | tr "\\n" " " | sed "s/^/STATUS-INSIDE:/"; echo',
    'exit',
    '',
  ].join('\n'), { SUDO_USER: user });
  t.is(code, 0, out);
  t.true(out.includes('TTY-42'), `a terminal inside: ${out}`);
  t.true(out.includes('SEEN-1'), `the edit made outside is seen inside: ${out}`);
  t.regex(out, /STATUS-INSIDE: M tracked\.txt \?\? inside\.txt/);

  const made = await stat(join(work, 'inside.txt'));
  t.is(made.gid, gid, 'the file made inside belongs to the editor group');
  t.is(made.mode & 0o060, 0o060, 'and is group-writable');
  t.is((await stat(work)).mode & 0o2000, 0o2000, 'directories are setgid');
  asUser('echo edited-by-the-user >> inside.txt');
  t.is(await readFile(join(work, 'inside.txt'), 'utf8'), 'made-inside\nedited-by-the-user\n');
  t.deepEqual(asUser('git status --porcelain').split('\n').filter(Boolean).sort(), [' M tracked.txt', '?? inside.txt'].sort());
  asUser('git add -A && git commit -qm two');
  t.is(asUser('git log --oneline | wc -l').trim(), '2');
  t.true(noContainer(`ckt${gid}-dev`), 'the container is gone once the shell exits');
});

/** Every file and directory under `dir` (symbolic links not followed), with its gid. */
async function gids(dir: string): Promise<{ path: string; gid: number }[]> {
  const found: { path: string; gid: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    found.push({ path, gid: (await lstat(path)).gid });
    if (entry.isDirectory()) found.push(...(await gids(path)));
  }
  return found;
}

/** The HTTP status nginx answers on 127.0.0.1:port for /v2/ (0: nothing answers yet). */
const httpStatus = (port: number) => {
  try {
    return Number(sh('curl', '-s', '-o', '/dev/null', '--max-time', '5', '-w', '%{http_code}', `http://127.0.0.1:${port}/v2/`));
  } catch {
    return 0;
  }
};

test('image:dev (default: the launcher) brings the stack up in the container on loopback, what it writes in the data folder carries the editor gid, docker stop ends it with exit 0', async (t) => {
  t.timeout(30 * 60_000, 'builds the image (and its base on a new machine), then starts the stack');
  requireCommands('curl', 'useradd', 'groupadd');
  const gid = freeGid();
  const group = `ckt${gid}`;
  const user = `cku${gid}`;
  hostGroup(t, group, gid);
  hostUser(t, user, [group]);
  const ports = { http: await freePort(), https: await freePort(), registry: await freePort(), debug: await freePort(), redis: await freePort(), sshd: await freePort() };
  const project = await imageProject(t, {
    project: `ckt${gid}`, editor: { group, gid },
    ports: { http: ports.http, https: ports.https },
    registry: { port: ports.registry, debug_addr: `127.0.0.1:${ports.debug}` },
    redis: { port: ports.redis },
    sshd: { host: '127.0.0.1', port: ports.sshd },
    users: { admin: { password: null }, readonly: { password: null } },
  });
  const container = `ckt${gid}-dev`;
  t.teardown(() => void spawnSync('docker', ['rm', '--force', container], { stdio: 'ignore' }));
  // The dev tag, built from this checkout: image:dev reuses it.
  const built = await project.run('image:build');
  t.is(built.error, undefined, built.all);
  // The project folder: a copy of this kit (its files and node_modules), as a checkout one hacks on; the launcher runs from it.
  const work = join(project.dir, 'work');
  await mkdir(work);
  execFileSync('sh', ['-c', 'cd "$1" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -c | tar -x -C "$2" && cp -a node_modules "$2/"', 'sh', REPO_ROOT, work]);

  const dev = runGulp(work, ['image:dev', '--pillar', project.pillarFile], { SUDO_USER: user }, 20 * 60_000);
  let exited: Awaited<typeof dev> | undefined;
  void dev.then((run) => (exited = run));
  const until = Date.now() + 600_000;
  while (!exited && httpStatus(ports.http) !== 401 && Date.now() < until) await new Promise((r) => setTimeout(r, 2000));
  t.is(exited, undefined, `image:dev is still running: ${exited?.all}`);
  t.is(httpStatus(ports.http), 401, 'nginx answers on the test port on loopback, with the registry\'s challenge (htpasswd mode)');

  // status from the mounted project, in the container: every process RUNNING, the health checks pass.
  const status = spawnSync('docker', ['exec', '--workdir', work, container, 'node', '--import=tsx', join(work, 'node_modules/gulp/bin/gulp.js'), '--cwd', work, 'status', '--pillar', project.pillarFile], { encoding: 'utf8' });
  t.is(status.status, 0, `${status.stdout}${status.stderr}`);
  for (const name of ['redis', 'registry', 'nginx', 'cron', 'sshd']) t.regex(status.stdout, new RegExp(`^${name}\\s+RUNNING\\s+pid \\d+`, 'm'));

  // What the stack wrote in the data folder (configuration, CA, secrets, logs, storage) belongs to the editor group.
  const data = join(project.dir, 'data');
  const written = await gids(data);
  for (const dir of ['etc', 'ca', 'secrets', 'log', 'run']) t.true(written.some((f) => f.path === join(data, dir)), `${dir}/ in ${written.map((f) => f.path).join(' ')}`);
  // Except secrets/ and ssh/: the launcher keeps them root's and private (0700, files 0600), nothing to edit there.
  const rootPrivate = (path: string) => [join(data, 'secrets'), join(data, 'ssh')].some((dir) => path === dir || path.startsWith(`${dir}/`));
  t.deepEqual(written.filter((f) => f.gid !== gid && !rootPrivate(f.path)), [], `every file is of gid ${gid}`);
  t.is((await stat(data)).gid, gid);

  const stopped = Date.now();
  const stop = spawnSync('docker', ['stop', '--time', '60', container], { encoding: 'utf8' });
  t.is(stop.status, 0, stop.stderr);
  const run = await dev;
  t.true(Date.now() - stopped < 60_000, 'stopped before docker\'s SIGKILL');
  t.is(run.code, 0, run.all);
  t.regex(run.all, /up: SIGTERM: stopping the stack through supervisord/);
  t.true(noContainer(container), 'the container is gone');
});
