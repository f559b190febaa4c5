// Offline image recipes (<name>.json under the project's container/recipes/, then the kit's): a Debian suite, a
// debootstrap variant and packages. The kit builds them with debootstrap from
// the machine's own apt mirror and `docker import`, so a machine that reaches no
// image registry still has its builders. The tag is a hash of the recipe, so an
// edited recipe gets a new image and an unchanged one is reused.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { ImageSourceConfig } from '../pillar/schema.ts';
import { envArgs, inspectImage, lastLines, withContainer, type Image } from '../lib/container.ts';
import { GOCACHE_DIR, STD_WARM_UP } from '../lib/gobuild.ts';
import type { Context } from '../lib/context.ts';
import { UserError } from '../lib/errors.ts';
import { lockTimeoutMs, withLock } from '../lib/lock.ts';
import { packageFile } from '../pillar/package-root.ts';
import { startProgress } from '../lib/progress.ts';

const RECIPES_DIR = packageFile('container', 'recipes') + sep;

interface Recipe {
  name: string;
  file: string;
  description?: string;
  suite: string;
  variant: string;
  packages: string[];
  /**
   * Installed with apt-get in the bootstrapped root, after debootstrap: apt
   * resolves a dependency's alternatives (systemd | systemd-standalone-sysusers),
   * debootstrap only takes the first one.
   */
  apt: string[];
  env: Record<string, string>;
  /** Python packages from PyPI into a venv of the root's python, pinned by hash (Debian packages none of them). */
  pip?: PipStep;
  /** "std": the image carries a Go build cache holding the standard library (STD_WARM_UP). */
  goCache?: 'std';
  /** corpus-kit-recipe/<name>:<hash of the recipe and its warm-up>. */
  tag: string;
}

/**
 * A recipe's `pip`: a venv at `venv` (over the root's own site packages, so the
 * dependencies come from Debian's apt packages), each requirement pinned
 * `name==version --hash=sha256:...` and installed without its dependencies,
 * then `commands` of the venv linked into /usr/local/bin.
 */
interface PipStep {
  venv: string;
  requirements: string[];
  commands: string[];
}

const PINNED_REQUIREMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+ --hash=sha256:[0-9a-f]{64}$/;

function parsePip(file: string, raw: unknown): PipStep | undefined {
  if (raw === undefined) return undefined;
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<string, unknown>>;
  if (typeof r.venv !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(r.venv)) problem(file, `"pip.venv": expected an absolute path, got ${JSON.stringify(r.venv)}`);
  if (!Array.isArray(r.requirements) || r.requirements.length === 0 || !r.requirements.every((q) => typeof q === 'string' && PINNED_REQUIREMENT.test(q))) {
    problem(file, `"pip.requirements": expected "name==version --hash=sha256:<64 hex>" lines, got ${JSON.stringify(r.requirements)}`);
  }
  const commands = r.commands ?? [];
  if (!Array.isArray(commands) || !commands.every((c) => typeof c === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c))) problem(file, `"pip.commands": expected a list of command names, got ${JSON.stringify(commands)}`);
  return { venv: r.venv, requirements: r.requirements as string[], commands: commands as string[] };
}

/** Set to "std" on an image whose Go build cache holds the standard library. */
export const GO_CACHE_LABEL = 'corpus-kit.go-cache';

/** Bumped when the way an image is made from a recipe changes, so old images are not reused. */
const RECIPE_FORMAT = 2;

function problem(file: string, message: string): never {
  throw new UserError(`${file}: ${message}`);
}

/** Where a recipe is looked up: the project's own container/recipes/ first, then the kit's. */
function recipeDirs(ctx: Context): string[] {
  return [...new Set([join(ctx.cwd, 'container', 'recipes') + sep, RECIPES_DIR])];
}

async function loadRecipe(ctx: Context, name: string): Promise<Recipe> {
  const dirs = recipeDirs(ctx);
  const file = dirs.map((dir) => join(dir, `${name}.json`)).find((f) => existsSync(f));
  if (!file) {
    const known = dirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
    throw new UserError(`builder recipe "${name}" does not exist (recipes in ${dirs.join(' and ')}: ${[...new Set(known)].join(', ')})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    problem(file, (error as Error).message);
  }
  const r = raw as Partial<Record<string, unknown>>;
  if (typeof r.suite !== 'string' || !/^[a-z]+$/.test(r.suite)) problem(file, `"suite": expected a Debian suite name, got ${JSON.stringify(r.suite)}`);
  const variant = r.variant ?? 'minbase';
  if (typeof variant !== 'string' || !['minbase', 'buildd', 'fakechroot'].includes(variant)) problem(file, `"variant": expected minbase, buildd or fakechroot, got ${JSON.stringify(variant)}`);
  const packages = r.packages ?? [];
  if (!Array.isArray(packages) || !packages.every((p) => typeof p === 'string' && /^[a-z0-9][a-z0-9+.-]+$/.test(p))) {
    problem(file, `"packages": expected a list of Debian package names, got ${JSON.stringify(packages)}`);
  }
  const apt = r.apt ?? [];
  if (!Array.isArray(apt) || !apt.every((p) => typeof p === 'string' && /^[a-z0-9][a-z0-9+.-]+$/.test(p))) {
    problem(file, `"apt": expected a list of Debian package names, got ${JSON.stringify(apt)}`);
  }
  const env = r.env ?? {};
  if (typeof env !== 'object' || env === null || !Object.entries(env).every(([k, v]) => /^[A-Z_][A-Z0-9_]*$/.test(k) && typeof v === 'string' && !/[\n\r]/.test(v))) {
    problem(file, `"env": expected NAME: value pairs, got ${JSON.stringify(env)}`);
  }
  if (r.go_cache !== undefined && r.go_cache !== 'std') problem(file, `"go_cache": expected "std" (the standard library compiled into the image's Go build cache), got ${JSON.stringify(r.go_cache)}`);
  const goCache = r.go_cache as 'std' | undefined;
  const pip = parsePip(file, r.pip);
  // The warm-up is part of the tag: a change to the kit's compile flags makes new images.
  const content = {
    format: RECIPE_FORMAT, suite: r.suite, variant, packages: [...(packages as string[])].sort(), env, goCache: goCache ? STD_WARM_UP : null,
    ...(apt.length ? { apt: [...(apt as string[])].sort() } : {}), ...(pip ? { pip } : {}),
  };
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
  return {
    name, file, suite: r.suite, variant, packages: packages as string[], apt: apt as string[], env: env as Record<string, string>, goCache, pip,
    description: typeof r.description === 'string' ? r.description : undefined,
    tag: `corpus-kit-recipe/${name}:${hash}`,
  };
}

/**
 * The Debian mirror this machine's apt uses (deb822 .sources or sources.list),
 * so the recipe images come from where the machine already gets its packages.
 * CORPUS_KIT_DEBIAN_MIRROR overrides it.
 */
function aptMirror(env: NodeJS.ProcessEnv, suite: string): string {
  if (env.CORPUS_KIT_DEBIAN_MIRROR) return env.CORPUS_KIT_DEBIAN_MIRROR;
  const entries: { uri: string; suites: string[] }[] = [];
  const listDir = '/etc/apt/sources.list.d';
  const files = [
    ...(existsSync(listDir) ? readdirSync(listDir).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => join(listDir, f)) : []),
    '/etc/apt/sources.list',
  ];
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]?.trim().split(/\s+/) ?? [];
        if (!field('Types').includes('deb')) continue;
        for (const uri of field('URIs')) entries.push({ uri, suites: field('Suites') });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
        if (m) entries.push({ uri: m[1]!, suites: [m[2]!] });
      }
    }
  }
  const usable = entries.filter((e) => /^https?:\/\//.test(e.uri));
  return (usable.find((e) => e.suites.includes(suite)) ?? usable.find((e) => !/security/.test(e.uri)))?.uri ?? 'http://deb.debian.org/debian';
}

/** The tag a recipe's image has (a hash of the recipe): what the release stamp records, without asking the engine. */
export async function recipeTag(ctx: Context, name: string): Promise<string> {
  return (await loadRecipe(ctx, name)).tag;
}

/** The image of a recipe: reused when its tag exists, otherwise built (one builder at a time per tag). */
export async function recipeImage(ctx: Context, name: string): Promise<Image> {
  const recipe = await loadRecipe(ctx, name);
  const existing = await inspectImage(ctx, recipe.tag);
  if (existing) return existing;
  // Per machine, not per project: every project here builds the same tag.
  const lock = join(tmpdir(), `corpus-kit-image-${recipe.tag.replace(/[^A-Za-z0-9.-]/g, '_')}.flock`);
  return withLock(lock, async () => (await inspectImage(ctx, recipe.tag)) ?? (await buildRecipeImage(ctx, recipe)), {
    what: `image ${recipe.tag}`,
    // A cold debootstrap of a builder takes minutes.
    timeoutMs: lockTimeoutMs(ctx.env, 1800),
    onWait: (holder) => ctx.log.info(`${holder} (it builds the image)`),
  });
}

async function buildRecipeImage(ctx: Context, recipe: Recipe): Promise<Image> {
  const mirror = aptMirror(ctx.env, recipe.suite);
  const work = join(ctx.paths.cache, 'recipes', `${recipe.name}-${process.pid}-${Date.now()}`);
  const rootfs = join(work, 'rootfs');
  await mkdir(work, { recursive: true });
  const progress = startProgress(ctx.log, `image ${recipe.tag}: debootstrap ${recipe.suite} (${recipe.variant}${recipe.packages.length ? ` + ${recipe.packages.join(', ')}` : ''}) from ${mirror}`);
  try {
    const include = recipe.packages.length ? [`--include=${recipe.packages.join(',')}`] : [];
    const run = await ctx.sh({ nothrow: true })`debootstrap --variant=${recipe.variant} ${include} ${recipe.suite} ${rootfs} ${mirror}`;
    if (run.exitCode !== 0) {
      const log = await readFile(join(rootfs, 'debootstrap/debootstrap.log'), 'utf8').catch(() => '');
      throw new UserError(`image recipe ${recipe.file}: debootstrap failed (exit ${run.exitCode}):\n${lastLines(run.stderr + run.stdout + log, 15)}`);
    }
    if (recipe.apt.length) await aptInstall(ctx, recipe, rootfs);
    if (recipe.pip) await pipInstall(ctx, recipe, recipe.pip, rootfs);
    // Package lists and downloaded .debs are of no use in a builder and only weigh on it.
    await ctx.sh`find ${join(rootfs, 'var/cache/apt/archives')} ${join(rootfs, 'var/lib/apt/lists')} -type f -delete`;
    const changes = Object.entries(recipe.env).flatMap(([k, v]) => ['--change', `ENV ${k}=${v}`]);
    changes.push('--change', `LABEL corpus-kit.recipe=${recipe.name}`);
    // With a warm-up, the imported root file system is only a step: the tag goes to the warmed image.
    const importTag = recipe.goCache ? `${recipe.tag}-rootfs` : recipe.tag;
    const imported = await ctx.sh`tar --numeric-owner -C ${rootfs} -c .`.pipe(ctx.sh`${ctx.pillar.engine} import ${changes} - ${importTag}`);
    progress.end(imported.stdout.trim().slice(0, 19));
    if (recipe.goCache) await warmGoCache(ctx, recipe, importTag);
    const image = await inspectImage(ctx, recipe.tag);
    if (!image) throw new Error(`image ${recipe.tag}: imported, but ${ctx.pillar.engine} does not list it`);
    return image;
  } catch (error) {
    progress.fail(error);
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * apt-get install of the recipe's `apt` packages in the bootstrapped root, from
 * the mirror debootstrap wrote into it, with /proc mounted for the maintainer
 * scripts and a policy-rc.d that keeps every service from starting here.
 */
async function aptInstall(ctx: Context, recipe: Recipe, rootfs: string): Promise<void> {
  const policy = join(rootfs, 'usr/sbin/policy-rc.d');
  await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  await ctx.sh`mount -t proc proc ${join(rootfs, 'proc')}`;
  try {
    const env = ['DEBIAN_FRONTEND=noninteractive', 'LANG=C.UTF-8'];
    let out = await ctx.sh({ nothrow: true })`chroot ${rootfs} env ${env} apt-get update`;
    if (out.exitCode === 0) out = await ctx.sh({ nothrow: true })`chroot ${rootfs} env ${env} apt-get install --yes --no-install-recommends ${recipe.apt}`;
    if (out.exitCode !== 0) throw new UserError(`image recipe ${recipe.file}: apt-get in the bootstrapped root failed (exit ${out.exitCode}):\n${lastLines(out.stderr + out.stdout, 15)}`);
  } finally {
    await ctx.sh({ nothrow: true })`umount ${join(rootfs, 'proc')}`;
    await rm(policy, { force: true });
  }
}

/**
 * The recipe's pip step in the bootstrapped root. pip there trusts the host's
 * CA bundle (PIP_CERT, SSL_CERT_FILE or Debian's; a TLS-inspecting proxy's CA is
 * in it, not in the root's), copied in for the install as SSL_CERT_FILE (pip's
 * truststore reads it; --cert alone is not enough) and removed after: the
 * hashes, not the connection, vouch for what is installed.
 */
async function pipInstall(ctx: Context, recipe: Recipe, pip: PipStep, rootfs: string): Promise<void> {
  const hostBundle = [ctx.env.PIP_CERT, ctx.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'].find((f) => f && existsSync(f));
  const bundle = '/tmp/corpus-kit-pip-ca.crt';
  const requirements = '/tmp/corpus-kit-requirements.txt';
  // The host's pip settings name host paths (PIP_CERT, PIP_FIND_LINKS...): none of them applies in the root.
  const env = { ...Object.fromEntries(Object.entries(ctx.env).filter(([k]) => !k.startsWith('PIP_'))), ...(hostBundle ? { SSL_CERT_FILE: bundle } : {}) };
  try {
    if (hostBundle) await copyFile(hostBundle, join(rootfs, bundle));
    await writeFile(join(rootfs, requirements), `${pip.requirements.join('\n')}\n`);
    let out = await ctx.sh({ nothrow: true })`chroot ${rootfs} /usr/bin/python3 -m venv --system-site-packages ${pip.venv}`;
    if (out.exitCode === 0) {
      out = await ctx.sh({ nothrow: true, env })`chroot ${rootfs} ${join(pip.venv, 'bin', 'pip')} install --quiet --no-cache-dir --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes --requirement ${requirements}`;
    }
    if (out.exitCode !== 0) throw new UserError(`image recipe ${recipe.file}: pip in the bootstrapped root failed (exit ${out.exitCode}):\n${lastLines(out.stderr + out.stdout, 15)}`);
    for (const command of pip.commands) await symlink(join(pip.venv, 'bin', command), join(rootfs, 'usr/local/bin', command));
  } finally {
    await rm(join(rootfs, bundle), { force: true });
    await rm(join(rootfs, requirements), { force: true });
  }
}

/**
 * Commits `base` with the standard library compiled into its Go build cache
 * (STD_WARM_UP) as the recipe's tag. One idle container, one `exec` per
 * warm-up (each with its own environment), then a commit of the stopped container.
 */
async function warmGoCache(ctx: Context, recipe: Recipe, base: string): Promise<void> {
  const progress = startProgress(ctx.log, `image ${recipe.tag}: Go standard library into ${GOCACHE_DIR}`);
  try {
    await withContainer(ctx, ['--network', 'none', '--user', '0:0', '--workdir', '/tmp', base, 'sleep', 'infinity'], async (id) => {
      const engine = ctx.pillar.engine;
      await ctx.sh`${engine} start ${id}`;
      for (const step of STD_WARM_UP) {
        const out = await ctx.sh({ nothrow: true })`${engine} exec ${envArgs(step.env)} ${id} go ${step.args}`;
        if (out.exitCode !== 0) throw new UserError(`image recipe ${recipe.file}: go ${step.args.join(' ')} failed (exit ${out.exitCode}):\n${lastLines(out.stderr, 15)}`);
      }
      await ctx.sh`${engine} kill ${id}`;
      const committed = await ctx.sh`${engine} commit --change ${'CMD ["/bin/sh"]'} --change ${`LABEL ${GO_CACHE_LABEL}=std`} ${id} ${recipe.tag}`;
      progress.end(committed.stdout.trim().slice(0, 19));
    });
  } catch (error) {
    progress.fail(error);
    throw error;
  } finally {
    await ctx.sh({ nothrow: true })`${ctx.pillar.engine} image rm ${base}`;
  }
}

/**
 * The image of an image source: a recipe (built offline when missing) or a pinned
 * reference (pulled when missing). `where` names the pillar key for errors.
 */
export async function imageFor(ctx: Context, source: ImageSourceConfig, where: string): Promise<Image> {
  if ('recipe' in source) return recipeImage(ctx, source.recipe);
  const present = await inspectImage(ctx, source.image);
  if (present) return present;
  ctx.log.info(`pulling ${source.image}`);
  const pulled = await ctx.sh({ nothrow: true })`${ctx.pillar.engine} pull --quiet ${source.image}`;
  const image = pulled.exitCode === 0 ? await inspectImage(ctx, source.image) : undefined;
  if (!image) {
    throw new UserError(
      `${where}.image: cannot pull "${source.image}" with ${ctx.pillar.engine}: ${pulled.stderr.trim().split('\n').pop() ?? ''}. ` +
        'Where no image registry is reachable, use a recipe ({recipe: golang-bookworm}) or load the image first.',
    );
  }
  return image;
}
