// What the GitHub target makes of a release's assets, without asking GitHub:
// the temporary names its uploads go under, how old another run's upload is,
// which temporary assets are a verified copy to rename into place
// (adoptableCopies) and which are leftovers to delete (leftoverAssets).
import { extname } from 'node:path';
import type { PublishFile } from './types.ts';

/** An asset as the API lists it (the fields used). */
export interface Asset {
  id: number;
  name: string;
  state: string;
  size: number;
  digest?: string | null;
  url: string;
  browser_download_url: string;
  created_at?: string;
  updated_at?: string;
}

/** Assets under this prefix are this tool's uploads in progress. */
export const TEMP_PREFIX = 'corpus-kit-tmp-';

/** `corpus-kit-tmp-<UTC time>-<run>-<name>`; names from before the time was added lack it. */
const TEMP_NAME = new RegExp(`^${TEMP_PREFIX}(?:(\\d{8}T\\d{6}Z)-)?([0-9a-f]{8})-(.+)$`);

/** How long another run's temporary or `starter` asset is left alone (its upload may still be going on). */
export const TEMP_GRACE_MS = 60 * 60 * 1000;

/** Compact UTC time for temporary names: 20260131T235959Z. */
export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** The name run `runId` uploads `file` under; the time tells other runs (on other machines, too) how old the upload is. */
export function tempName(runId: string, file: string): string {
  return `${TEMP_PREFIX}${timeStamp(Date.now())}-${runId}-${file}`;
}

function parseTempName(name: string): { time?: number; run: string; file: string } | undefined {
  const match = TEMP_NAME.exec(name);
  if (!match) return undefined;
  const t = match[1];
  const time = t ? Date.parse(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 11)}:${t.slice(11, 13)}:${t.slice(13)}`) : undefined;
  return { time, run: match[2]!, file: match[3]! };
}

/** Not a finished asset under its real name: an upload in progress, or one a run left behind. */
export function isTemporary(asset: Asset): boolean {
  return asset.state !== 'uploaded' || asset.name.startsWith(TEMP_PREFIX);
}

/** Milliseconds since the last sign of life: the latest of the time in its name, created_at and updated_at. */
function age(asset: Asset): number {
  const times = [parseTempName(asset.name)?.time, Date.parse(asset.created_at ?? ''), Date.parse(asset.updated_at ?? '')].filter((t): t is number => Number.isFinite(t));
  // A server that gives no times leaves no way to tell; such assets are treated as old, as before.
  return times.length > 0 ? Date.now() - Math.max(...times) : Infinity;
}

export function ageText(asset: Asset): string {
  const ms = age(asset);
  return !Number.isFinite(ms) ? 'at an unknown time' : ms < 120_000 ? `${Math.max(0, Math.round(ms / 1000))}s` : `${Math.round(ms / 60_000)} min`;
}

/**
 * Temporary assets that are a verified copy (uploaded, digest equal to the local file's)
 * of a file whose real name is missing: a run that deleted the old asset and died
 * before the rename. Renaming them finishes that run's work without a gap.
 */
export function adoptableCopies(assets: readonly Asset[], files: readonly PublishFile[]): Map<Asset, PublishFile> {
  const adoptable = new Map<Asset, PublishFile>();
  for (const asset of assets) {
    const name = parseTempName(asset.name)?.file;
    const file = files.find((f) => f.name === name);
    if (!file || asset.state !== 'uploaded' || asset.digest !== `sha256:${file.sha256}` || asset.size !== file.size) continue;
    if (assets.some((a) => a.name === file.name) || [...adoptable.values()].includes(file)) continue;
    adoptable.set(asset, file);
  }
  return adoptable;
}

/**
 * Temporary assets to delete, with why: run `runId`'s own; an unfinished asset holding
 * the real name of a file to publish (runs of this tool never upload under a real
 * name, and it would block the rename); and any other once past the grace period.
 */
export function leftoverAssets(assets: readonly Asset[], files: readonly PublishFile[], adoptable: ReadonlyMap<Asset, PublishFile>, runId: string, graceMs: number): [Asset, string][] {
  const found: [Asset, string][] = [];
  for (const asset of assets.filter((a) => isTemporary(a) && !adoptable.has(a))) {
    const failed = asset.state !== 'uploaded' ? `left in state ${asset.state} by a failed upload` : 'temporary upload left by an interrupted run';
    if (parseTempName(asset.name)?.run === runId) found.push([asset, 'an earlier attempt of this run']);
    else if (files.some((f) => f.name === asset.name)) found.push([asset, failed]);
    else if (age(asset) > graceMs) found.push([asset, `${failed}, last changed ${ageText(asset)} ago`]);
  }
  return found;
}

const CONTENT_TYPES: Record<string, string> = {
  '.xz': 'application/x-xz',
  '.json': 'application/json',
  '.md5': 'text/plain',
  '.sha256': 'text/plain',
  '.txt': 'text/plain',
};

export function contentType(name: string): string {
  return name === 'SHA256SUMS' ? 'text/plain' : (CONTENT_TYPES[extname(name)] ?? 'application/octet-stream');
}
