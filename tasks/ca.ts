// ca: a CA, a server certificate for the domain and its aliases (and localhost,
// 127.0.0.1, ::1 for tests), and the token-signing key pair, under
// {data_root}/ca/. Idempotent: a valid CA is kept; the server certificate is
// reissued when its names change or it expires within 30 days; --force starts
// over. Each file is written whole under a temporary name, then renamed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { localId } from '../lib/accounts.ts';
import type { Context } from '../lib/context.ts';
import { certificateMatchesKey, opensslIp, signedBy, subjectAltNames, validFor } from '../lib/openssl.ts';
import { defineTask } from './task.ts';

const DAY = 86_400;
/** Reissue a certificate that expires within this many seconds. */
const RENEW_BEFORE = 30 * DAY;
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

interface Pair {
  certificate: string;
  key: string;
}

/** The names the server certificate must carry, as openssl lists them. */
export function serverNames(ctx: Context): { dns: string[]; ips: string[]; listed: string[] } {
  const dns = [...new Set([ctx.pillar.domain, ...ctx.pillar.server_aliases, 'localhost'])];
  const ips = ['127.0.0.1', '::1'];
  return { dns, ips, listed: [...dns.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${opensslIp(ip)}`)].sort() };
}

/** Runs `openssl req` writing into temporary files, then moves both into place (key first). */
async function issue(ctx: Context, pair: Pair, args: string[]): Promise<void> {
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const key = pair.key + suffix;
  const certificate = pair.certificate + suffix;
  try {
    await ctx.sh`openssl req -x509 -new ${EC} -keyout ${key} -out ${certificate} ${args}`;
    await chmod(key, 0o600);
    await chmod(certificate, 0o644);
    await rename(key, pair.key);
    await rename(certificate, pair.certificate);
  } finally {
    await rm(key, { force: true });
    await rm(certificate, { force: true });
  }
}

async function usable(ctx: Context, pair: Pair): Promise<boolean> {
  return existsSync(pair.certificate) && existsSync(pair.key) && (await validFor(ctx.sh, pair.certificate, RENEW_BEFORE)) && (await certificateMatchesKey(ctx.sh, pair.certificate, pair.key));
}

/**
 * Who may read ca/ (`ca` and `up` both apply it): root's, group the service
 * group, 0750, as the registry (the service user) reads token.crt; token.key is
 * the service user's (and group's, as every file of a shared data folder), 0600,
 * as docker_auth signs with it; ca.key and server.key stay root's. Without the service user and group, ca/ stays 0700.
 */
export async function caAccess(dir: string, ids: { uid: number; gid: number } | undefined): Promise<void> {
  await chmod(dir, ids ? 0o750 : 0o700);
  if (!ids) return;
  await chown(dir, 0, ids.gid);
  const tokenKey = join(dir, 'token.key');
  if (!existsSync(tokenKey)) return;
  await chown(tokenKey, ids.uid, ids.gid);
  await chmod(tokenKey, 0o600);
}

async function runCa(ctx: Context): Promise<void> {
  const dir = join(ctx.pillar.data_root, 'ca');
  // data_root and its parents with the default mode (the services walk through them); only ca/ is private.
  await mkdir(ctx.pillar.data_root, { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = { certificate: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  const server = { certificate: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  const token = { certificate: join(dir, 'token.crt'), key: join(dir, 'token.key') };
  const { force } = ctx.flags;
  const say = (what: string) => ctx.log.info(`ca: ${what}`);

  let newCa = false;
  if (force || !(await usable(ctx, ca))) {
    await issue(ctx, ca, ['-days', '3650', '-subj', `/CN=${ctx.pillar.project} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    newCa = true;
    say(`new CA ${ca.certificate}`);
  } else {
    say(`CA kept (${ca.certificate})`);
  }

  const names = serverNames(ctx);
  const why = newCa ? 'a new CA'
    : !(await usable(ctx, server)) ? 'missing, expiring within 30 days or not matching its key'
    : !(await signedBy(ctx.sh, server.certificate, ca.certificate)) ? 'not signed by this CA'
    : (await subjectAltNames(ctx.sh, server.certificate)).join(',') !== names.listed.join(',') ? 'the names changed'
    : undefined;
  if (why) {
    const san = [...names.dns.map((n) => `DNS:${n}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',');
    await issue(ctx, server, ['-days', '397', '-subj', `/CN=${ctx.pillar.domain}`, '-CA', ca.certificate, '-CAkey', ca.key,
      '-addext', `subjectAltName=${san}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth']);
    say(`server certificate issued (${why}) for ${[...names.dns, ...names.ips].join(', ')}`);
  } else {
    say(`server certificate kept (${server.certificate})`);
  }

  if (force || !(await usable(ctx, token))) {
    await issue(ctx, token, ['-days', '3650', '-subj', `/CN=${ctx.pillar.project} token signer`]);
    say(`token-signing key pair issued (${token.certificate})`);
  } else {
    say(`token-signing key pair kept (${token.certificate})`);
  }
  const [uid, gid] = [localId('passwd', ctx.pillar.user), localId('group', ctx.pillar.group)];
  await caAccess(dir, uid !== undefined && gid !== undefined ? { uid, gid } : undefined);
}

export const caTask = defineTask({
  name: 'ca',
  description: 'CA, server certificate for the domain and aliases, token-signing key pair under {data_root}/ca/',
  flags: ['force'],
  run: runCa,
});
