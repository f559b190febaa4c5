// A file:// GOPROXY made at test time from a module directory of the fixtures,
// in the layout the go command reads (<module>/@v/list, .info, .mod, .zip), so
// the dependency download step runs for real with no network.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** A little-endian zip record: a signature, then [offset, bytes, value] fields; the rest stays zero. */
function record(size: number, signature: number, fields: [offset: number, bytes: 2 | 4, value: number][]): Buffer {
  const buffer = Buffer.alloc(size);
  buffer.writeUInt32LE(signature, 0);
  for (const [offset, bytes, value] of fields) {
    if (bytes === 2) buffer.writeUInt16LE(value, offset);
    else buffer.writeUInt32LE(value, offset);
  }
  return buffer;
}

/** A zip with stored (uncompressed) entries: all the go command needs. */
function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    // Version needed 20; crc-32, compressed and uncompressed size; name length.
    const local = record(30, 0x04034b50, [[4, 2, 20], [14, 4, crc], [18, 4, data.length], [22, 4, data.length], [26, 2, nameBytes.length]]);
    // The same, after "version made by" 20, then the offset of the local header.
    const central = record(46, 0x02014b50, [[4, 2, 20], [6, 2, 20], [16, 4, crc], [20, 4, data.length], [24, 4, data.length], [28, 2, nameBytes.length], [42, 4, offset]]);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = record(22, 0x06054b50, [[8, 2, files.length], [10, 2, files.length], [12, 4, directory.length], [16, 4, offset]]);
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
