// image:dev: the editor group check on the host (real groups and users made
// for the test, with a test gid), and the shared folders through a real
// container run with --shell on a pty.
import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { editorProblems } from '../tasks/image-dev.ts';
import { REPO_ROOT } from './helpers/gulp.ts';
import { imageProject, type ImageProject } from './helpers/image-project.ts';
import { requireCommands } from './helpers/prerequisites.ts';

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
