// How render installs: a second render changes nothing (mtimes kept) and says
// so; --dry-run shows a diff with no secret in it and installs nothing; a render
// whose nginx config fails nginx -t leaves the installed tree byte-identical;
// kill -9 at random moments of a render always leaves a whole configuration.
import { appendFile, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import test from 'ava';
import { REPO_ROOT } from './helpers/gulp.ts';
import { requireCommands } from './helpers/prerequisites.ts';
import { renderProject, type RenderProject } from './helpers/render-project.ts';
import { mtimes, treeHashes } from './helpers/render-stack.ts';

async function secretsOf(p: RenderProject): Promise<string[]> {
  const names = ['users.admin.password', 'redis.password', 'registry.http_secret'];
  return Promise.all(names.map(async (name) => (await readFile(join(p.data, 'secrets', name), 'utf8')).trim()));
}

test('a second render reports no change and keeps every mtime; --dry-run shows the diff without secrets and installs nothing', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  t.is((await p.run(['ca', 'render'])).error, undefined);
  const before = await treeHashes(p.etc);
  const times = await mtimes(p.etc);
  await sleep(20);
  const again = await p.run(['render'], ['--verbose']);
  t.regex(again.err, /render: no change \(\d+ files in /);
  t.deepEqual(await mtimes(p.etc), times);

  // A new port and a new password: nginx.conf shows in the diff, the secret files only by name.
  await p.setPillar({ ports: { http: p.ports.http + 1 }, users: { admin: { password: 'a-brand-new-admin-password' } } });
  const dry = await p.run(['render'], ['--dry-run', '--verbose']);
  t.is(dry.error, undefined, dry.all);
  t.true(dry.out.includes(`\n-        listen ${p.ports.http};\n`) && dry.out.includes(`\n+        listen ${p.ports.http + 1};\n`), dry.out);
  t.regex(dry.out, /\+\+\+ b\/docker_auth\/auth\.yml\n\(secret file changed: content not shown\)/);
  for (const secret of [...(await secretsOf(p)), 'a-brand-new-admin-password']) t.false(dry.all.includes(secret), 'a secret was printed');
  t.deepEqual(await treeHashes(p.etc), before);

  // A secret that changes only a private file: named, never shown, and installed without touching etc/.
  await p.setPillar({ ports: { http: p.ports.http + 1 }, users: { admin: { password: 'a-brand-new-admin-password' } }, registry: { http_secret: 'a-brand-new-http-secret' } });
  const privateDry = await p.run(['render'], ['--dry-run', '--verbose']);
  t.regex(privateDry.out, /\+\+\+ b\/secrets\/processes\/registry\/http_secret\n\(secret file changed: content not shown\)/);
  t.false(privateDry.all.includes('a-brand-new-http-secret'), 'a secret was printed');
  await p.setPillar({ ports: { http: p.ports.http + 1 }, users: { admin: { password: 'a-brand-new-admin-password' } } });

  // The real render: only the changed files get new mtimes.
  const real = await p.run(['render']);
  t.regex(real.err, /nginx\/nginx\.conf \(changed\)/);
  const after = await mtimes(p.etc);
  t.not(after['nginx/nginx.conf'], times['nginx/nginx.conf']);
  t.is(after['redis/redis.conf'], times['redis/redis.conf']);
  t.is(after['ssh/sshd_config'], times['ssh/sshd_config']);
});

test('a file of the installed configuration edited by hand is put back by the next render, which says so', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  t.is((await p.run(['ca', 'render'])).error, undefined);
  const before = await treeHashes(p.etc);
  await appendFile(join(p.etc, 'nginx', 'nginx.conf'), '# edited by hand\n');
  const again = await p.run(['render']);
  t.is(again.error, undefined, again.all);
  t.regex(again.err, /nginx\/nginx\.conf \(changed\)/);
  t.deepEqual(await treeHashes(p.etc), before);
  t.is((await p.run(['render'])).error, undefined);
});

test('a render that fails nginx -t exits with nginx\'s message mapped to the pillar key, and the installed tree stays byte-identical', async (t) => {
  requireCommands('nginx', 'openssl');
  const p = await renderProject(t);
  t.is((await p.run(['ca', 'render'])).error, undefined);
  const before = await treeHashes(p.etc);
  const link = await readlink(p.etc);
  await p.setPillar({ tls: { cert: { file: join(p.dir, 'missing.crt') } }, ports: { http: p.ports.http + 1 } });
  const { error } = await p.run(['render']);
  t.truthy(error);
  t.regex(error!.message, /^render: nginx -t refused the staged configuration \(nothing was installed\):/);
  t.true(error!.message.includes(`cannot load certificate "${join(p.dir, 'missing.crt')}"`), error!.message);
  t.false(error!.message.includes('.etc.staging'), 'the staged path is shown as the installed one');
  t.regex(error!.message, /nginx\/nginx\.conf line \d+: ssl_certificate ".*missing\.crt";\n  written by plugin "nginx" from templates\/nginx\/nginx\.conf\.njk; from pillar tls\.cert\.file/);
  t.deepEqual(await treeHashes(p.etc), before);
  t.is(await readlink(p.etc), link);
});

/** Runs the real gulp CLI render, killing it (all its processes) with SIGKILL after `ms` (never, by default); resolves with how long it ran. */
function killedRender(p: RenderProject, ms = Infinity): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/gulp/bin/gulp.js'), '--cwd', REPO_ROOT, 'render', '--pillar', p.pillarFile], { env: { ...process.env, ...p.env }, stdio: 'ignore', detached: true });
    // gulp respawns node with the tsx loader: the whole process group is killed.
    const timer = ms === Infinity ? undefined : setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}

test('kill -9 at random moments of render, repeated, always leaves a whole old or whole new configuration', async (t) => {
  requireCommands('nginx', 'openssl', '/usr/sbin/sshd');
  const p = await renderProject(t);
  // The new configuration differs in several files (nginx.conf, redis.conf, config.yml), and so does a private file (http_secret).
  const variant = (n: number) => ({ ports: { http: p.ports.http + n }, redis: { port: p.ports.redis + n }, registry: { http_secret: `http-secret-of-variant-${n}` } });
  await p.setPillar(variant(0));
  t.is((await p.run(['ca', 'render'])).error, undefined);
  // Both trees render installs: the configuration and the processes' private files.
  const trees = [p.etc, join(p.data, 'secrets', 'processes')];
  const hashes = () => Promise.all(trees.map((dir) => treeHashes(dir)));
  const old = await hashes();
  await p.setPillar(variant(1));
  // How long a whole CLI render takes here: the kills spread over its last 40%,
  // where it stages, validates and swaps.
  const whole = await killedRender(p);
  const fresh = await hashes();
  for (const i of [0, 1]) t.notDeepEqual(old[i], fresh[i], trees[i]);
  const seen = new Set<string>();
  for (let round = 0; round < 10; round++) {
    await p.setPillar(variant(round % 2));
    await killedRender(p, whole * (0.6 + 0.4 * Math.random()));
    const now = await hashes();
    for (const i of [0, 1]) {
      const which = JSON.stringify(now[i]) === JSON.stringify(old[i]) ? 'old' : JSON.stringify(now[i]) === JSON.stringify(fresh[i]) ? 'new' : 'mixed';
      t.not(which, 'mixed', `round ${round}, ${trees[i]}: ${JSON.stringify(now[i])}`);
      seen.add(`${i === 0 ? 'etc' : 'private'} ${which}`);
    }
  }
  // A later render recovers: it completes and sweeps what the killed ones left.
  t.is((await p.run(['render'])).error, undefined);
  t.log(`configurations seen after the kills: ${[...seen].join(', ')}`);
});
