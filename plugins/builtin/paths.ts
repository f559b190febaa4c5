// Where the stack's rendered configuration and installed binaries live.
import { join } from 'node:path';
import type { Pillar } from '../../pillar/schema.ts';

const etcDir = (pillar: Pillar) => join(pillar.data_root, 'etc');
export const etcFile = (pillar: Pillar, ...parts: string[]) => join(etcDir(pillar), ...parts);

/** The binary a built-in runs: binaries.<name>.path when set, else the image's install location. */
export function binaryPath(pillar: Pillar, name: string): string {
  return pillar.binaries[name]?.path ?? `/usr/local/bin/${name}`;
}

/** The port of a `host:port` listen address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** `host:port`, an IPv6 host in brackets (as nginx, the registry, docker_auth and URLs read it). */
export const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
