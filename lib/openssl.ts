// The openssl CLI questions ca and render both ask: does a certificate last
// long enough, which names does it carry, does it match its key.
import type { Shell } from './shell.ts';

/** True when `certificate` is still valid `seconds` from now. */
export async function validFor(sh: Shell, certificate: string, seconds: number): Promise<boolean> {
  return (await sh({ nothrow: true })`openssl x509 -noout -checkend ${seconds} -in ${certificate}`).exitCode === 0;
}

/** The subjectAltName entries, as `DNS:name` and `IP:address` (IPv6 in openssl's long form). */
export async function subjectAltNames(sh: Shell, certificate: string): Promise<string[]> {
  const out = await sh({ nothrow: true })`openssl x509 -noout -ext subjectAltName -in ${certificate}`;
  if (out.exitCode !== 0) return [];
  return out.stdout.split('\n').slice(1).join(',').split(',').map((s) => s.trim().replace(/^IP Address:/, 'IP:')).filter(Boolean).sort();
}

/** True when the certificate's public key is the key's (a crash between two renames must not leave a mismatched pair). */
export async function certificateMatchesKey(sh: Shell, certificate: string, key: string): Promise<boolean> {
  const fromCertificate = await sh({ nothrow: true })`openssl x509 -noout -pubkey -in ${certificate}`;
  const fromKey = await sh({ nothrow: true })`openssl pkey -pubout -in ${key}`;
  return fromCertificate.exitCode === 0 && fromKey.exitCode === 0 && fromCertificate.stdout === fromKey.stdout;
}

/** True when `certificate` chains to `ca`. */
export async function signedBy(sh: Shell, certificate: string, ca: string): Promise<boolean> {
  return (await sh({ nothrow: true })`openssl verify -CAfile ${ca} ${certificate}`).exitCode === 0;
}

/** An IP address as openssl prints it in a subjectAltName (::1 -> 0:0:0:0:0:0:0:1). */
export function opensslIp(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : address.split(':');
  return groups.map((g) => g.replace(/^0+(?=.)/, '').toUpperCase()).join(':');
}
