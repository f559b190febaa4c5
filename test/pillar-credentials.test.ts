// The one URL credential scrubber (issue 7 point 10): table tests of what it
// finds and hides, then the places that use it: the logger, pillar:show (a
// token in publish.github.base_url, in a URL the parser refuses) and git's
// command line (an ssh://user:password@ mirror).
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { createContext } from '../lib/context.ts';
import { Logger } from '../lib/logger.ts';
import { scrubUrls, urlCredentials, withoutCredentials } from '../pillar/credentials.ts';
import { createTasks } from '../tasks/index.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { tempDir } from './helpers/tmp.ts';

/** text → [scrubbed, credentials found, as a command may take it]. */
const TABLE: [string, string, string[], string][] = [
  ['https://tok3n-abc@github.com/x.git', 'https://***@github.com/x.git', ['tok3n-abc'], 'https://github.com/x.git'],
  ['https://user:p%40ss-word@host/x', 'https://***@host/x', ['user', 'p%40ss-word', 'p@ss-word'], 'https://host/x'],
  // Refused by the URL parser: '@' and '/' unescaped in the password, a bad %-escape.
  ['https://user:p@ss@word@host/x', 'https://***@host/x', ['user', 'p@ss@word'], 'https://host/x'],
  ['https://user:ab/cd-pw@host:8443/p', 'https://***@host:8443/p', ['user', 'ab/cd-pw'], 'https://host:8443/p'],
  ['see https://u1:%zz-bad@h/ and http://a2:b3-pw@c', 'see https://***@h/ and http://***@c', ['u1', '%zz-bad', 'a2', 'b3-pw'], 'see https://h/ and http://c'],
  // ssh: the account name is no secret, the password is (and ssh never uses it).
  ['ssh://git:hunter2-ssh@127.0.0.1:22/x.git', 'ssh://git:***@127.0.0.1:22/x.git', ['hunter2-ssh'], 'ssh://git@127.0.0.1:22/x.git'],
  ['ssh://git@host/x.git', 'ssh://git@host/x.git', [], 'ssh://git@host/x.git'],
  ['file://user:file-pw@/srv/mirror.git', 'file://***@/srv/mirror.git', ['user', 'file-pw'], 'file:///srv/mirror.git'],
  // Not credentials: a path holding '@' after a port (Go proxy URLs), scp-like addresses.
  ['http://127.0.0.1:3000/github.com/x/y/@v/list', 'http://127.0.0.1:3000/github.com/x/y/@v/list', [], 'http://127.0.0.1:3000/github.com/x/y/@v/list'],
  ['https://host/a/@scope/pkg', 'https://host/a/@scope/pkg', [], 'https://host/a/@scope/pkg'],
  ['git@github.com:owner/repo.git', 'git@github.com:owner/repo.git', [], 'git@github.com:owner/repo.git'],
  ["quoted 'https://tok-in-quotes@h/x' ok", "quoted 'https://***@h/x' ok", ['tok-in-quotes'], "quoted 'https://h/x' ok"],
];

for (const [text, scrubbed, credentials, bare] of TABLE) {
  test(`scrubUrls / urlCredentials / withoutCredentials: ${text}`, (t) => {
    t.is(scrubUrls(text), scrubbed);
    t.deepEqual(urlCredentials(text), credentials);
    t.is(withoutCredentials(text), bare);
  });
}

test('the logger scrubs URL credentials it was never told about', (t) => {
  const log = new Logger({ out: () => {}, err: () => {} });
  t.is(log.mask('fetching https://x:never-registered@host/repo'), 'fetching https://***@host/repo');
});

test('pillar:show hides credentials of every URL, those the URL parser refuses and publish.github.base_url too', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'p.yml');
  await writeFile(file, [
    `data_root: ${join(dir, 'data')}`,
    'publish: {github: {base_url: "https://ghe-user:ghe-Pa55word@ghe.example.com"}}',
    'binaries:',
    '  registry: {source: {mirror: "https://mirror-bot-1:p@ss@word-mirror@mirror.example.com/d.git"}}',
    '  auth_server: {source: {mirror: "ssh://git:ssh-Pa55word@mirror.example.com/a.git"}}',
    '',
  ].join('\n'));
  let out = '';
  let err = '';
  const tasks = await createTasks({ cwd: dir, argv: ['--pillar', file, '--verbose'], env: {}, logger: { out: (s) => (out += s), err: (s) => (err += s) } });
  await tasks['pillar:show']!();
  for (const secret of ['ghe-Pa55word', 'p@ss@word-mirror', 'word-mirror', 'ssh-Pa55word']) t.false(`${out}${err}`.includes(secret), `${secret} in\n${out}`);
  t.regex(out, /base_url: https:\/\/\*\*\*@ghe\.example\.com/);
  t.regex(out, /mirror: https:\/\/\*\*\*@mirror\.example\.com\/d\.git/);
  t.regex(out, /mirror: ssh:\/\/git:\*\*\*@mirror\.example\.com\/a\.git/);
});

test('git is never given the password of an ssh:// remote, nor of one the URL parser refuses, on its command line; pins:outdated names them scrubbed', async (t) => {
  requireCommands('git');
  const dir = await tempDir(t);
  // A git on PATH that records its arguments, then runs the real one; an ssh
  // that records its own and fails (no sshd needed: the argv is the point).
  const bin = join(dir, 'bin');
  const argvLog = join(dir, 'argv.log');
  const realGit = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
  await mkdir(bin);
  await writeFile(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "git $*" >> ${argvLog}\nexec ${realGit} "$@"\n`);
  await writeFile(join(bin, 'fake-ssh'), `#!/bin/sh\nprintf '%s\\n' "ssh $*" >> ${argvLog}\nexit 255\n`);
  await chmod(join(bin, 'git'), 0o755);
  await chmod(join(bin, 'fake-ssh'), 0o755);
  const file = join(dir, 'p.yml');
  await writeFile(file, [
    `data_root: ${join(dir, 'data')}`,
    'binaries:',
    '  registry: {source: {git: "ssh://git:ssh-Pa55word@127.0.0.1:9/d.git"}}',
    // A URL the URL parser refuses ('/' in the password): git gets it without credentials all the same.
    '  auth_server: {source: {git: "https://bot:ab/cd-Pa55word@127.0.0.1:9/a.git"}}',
    '',
  ].join('\n'));
  let all = '';
  const tasks = await createTasks({
    cwd: dir,
    argv: ['--pillar', file, '--verbose'],
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, GIT_SSH_COMMAND: join(bin, 'fake-ssh'), CORPUS_KIT_CACHE: join(dir, 'cache') },
    logger: { out: (s) => (all += s), err: (s) => (all += s) },
  });
  const error = await t.throwsAsync(tasks['pins:outdated']!());
  all += `${error!.message}\n${error!.stack}`;
  t.regex(all, /ssh:\/\/git:\*\*\*@127\.0\.0\.1:9\/d\.git is unreachable/, all);
  const argv = await readFile(argvLog, 'utf8');
  t.regex(argv, /^git .*ls-remote .*ssh:\/\/git@127\.0\.0\.1:9\/d\.git/m, argv);
  t.regex(argv, /^ssh /m, argv);
  t.regex(argv, /^git .*ls-remote .*https:\/\/127\.0\.0\.1:9\/a\.git/m, argv);
  t.regex(all, /https:\/\/\*\*\*@127\.0\.0\.1:9\/a\.git is unreachable/, all);
  for (const secret of ['ssh-Pa55word', 'ab/cd-Pa55word']) {
    t.false(argv.includes(secret), argv);
    t.false(all.includes(secret), all);
  }
});

test('credentials in a proxy URL of the environment (GOPROXY, HTTPS_PROXY) are masked wherever they show, URL or not', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'p.yml');
  await writeFile(file, `data_root: ${join(dir, 'data')}\n`);
  let all = '';
  const env = { GOPROXY: 'https://goproxy-user:goproxy-Pa55word@proxy.example.com,direct', HTTPS_PROXY: 'http://px:https-proxy-Pa55word@127.0.0.1:3128' };
  const ctx = await createContext({ cwd: dir, argv: ['--pillar', file], env, logger: { out: (s) => (all += s), err: (s) => (all += s) } });
  ctx.log.info('go: password goproxy-Pa55word rejected; proxy said https-proxy-Pa55word');
  t.is(all, 'go: password *** rejected; proxy said ***\n');
});
