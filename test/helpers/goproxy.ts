// A file:// GOPROXY made at test time from a module directory of the fixtures,
// in the layout the go command reads (<module>/@v/list, .info, .mod, .zip), so
// the dependency download step runs for real with no network.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** A zip with stored (uncompressed) entries: all the go command needs. */
function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** go.sum's "h1:" hash (golang.org/x/mod/sumdb/dirhash Hash1) of named files. */
export function h1(files: { name: string; data: Buffer }[]): string {
  const lines = [...files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => `${createHash('sha256').update(f.data).digest('hex')}  ${f.name}\n`);
  return `h1:${createHash('sha256').update(lines.join('')).digest('base64')}`;
}

/** Writes module `path@version` from `dir` into the proxy at `proxy`; returns its two go.sum lines. */
export async function publishModule(proxy: string, path: string, version: string, dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const files = await Promise.all(names.map(async (name) => ({ name: `${path}@${version}/${name}`, data: await readFile(join(dir, name)) })));
  const mod = await readFile(join(dir, 'go.mod'));
  const at = join(proxy, path, '@v');
  await mkdir(at, { recursive: true });
  await writeFile(join(at, 'list'), `${version}\n`);
  await writeFile(join(at, `${version}.info`), JSON.stringify({ Version: version, Time: '2024-01-01T00:00:00Z' }));
  await writeFile(join(at, `${version}.mod`), mod);
  await writeFile(join(at, `${version}.zip`), zip(files));
  return `${path} ${version} ${h1(files)}\n${path} ${version}/go.mod ${h1([{ name: 'go.mod', data: mod }])}\n`;
}
