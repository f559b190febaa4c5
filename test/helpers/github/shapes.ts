// Response bodies shaped like GitHub's: the recorded release and asset bodies of
// @octokit/fixtures (scenario release-assets) with the emulator's ids, names
// and URLs put in, plus the fields GitHub added since (an asset's `digest`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface Recorded {
  method: string;
  path: string;
  response: Record<string, unknown>;
}

const fixturesDir = dirname(createRequire(import.meta.url).resolve('@octokit/fixtures'));
const recorded = JSON.parse(readFileSync(join(fixturesDir, 'scenarios/api.github.com/release-assets/normalized-fixture.json'), 'utf8')) as Recorded[];

function recordedBody(method: string, pathEnd: RegExp): Record<string, unknown> {
  const entry = recorded.find((r) => r.method === method && pathEnd.test(r.path));
  if (!entry) throw new Error(`@octokit/fixtures release-assets: no recorded ${method} ${pathEnd}`);
  return entry.response;
}

/** The recorded bodies, as GitHub sent them. */
export const RECORDED_RELEASE = recordedBody('get', /\/releases\/tags\/[^/]+$/);
export const RECORDED_ASSET = recordedBody('post', /\/releases\/\d+\/assets\?/);
/** The uploader/author object of the recordings. */
export const RECORDED_USER = RECORDED_ASSET.uploader as Record<string, unknown>;

export interface Hosts {
  /** API root, e.g. http://127.0.0.1:PORT/api/v3 */
  api: string;
  /** Upload root on the other port, e.g. http://127.0.0.1:PORT2/api/uploads */
  uploads: string;
  /** Web root (html_url, browser_download_url). */
  web: string;
}

export interface ReleaseRecord {
  id: number;
  repo: string;
  tag_name: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  created_at: string;
  published_at: string | null;
}

export interface AssetRecord {
  id: number;
  releaseId: number;
  name: string;
  label: string | null;
  content_type: string;
  state: 'starter' | 'uploaded';
  size: number;
  /** Hex sha256 of the stored bytes, once uploaded. */
  sha256: string | null;
  /** The bytes (kept when the emulator keeps bodies). */
  content: Buffer | null;
  created_at: string;
  updated_at: string;
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}${id}`).toString('base64');
}

export function assetBody(hosts: Hosts, release: ReleaseRecord, asset: AssetRecord, digests: boolean): Record<string, unknown> {
  return {
    ...RECORDED_ASSET,
    url: `${hosts.api}/repos/${release.repo}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: nodeId('RA_', asset.id),
    name: asset.name,
    label: asset.label,
    uploader: RECORDED_USER,
    content_type: asset.content_type,
    state: asset.state,
    size: asset.size,
    ...(digests ? { digest: asset.sha256 ? `sha256:${asset.sha256}` : null } : {}),
    download_count: 0,
    created_at: asset.created_at,
    updated_at: asset.updated_at,
    browser_download_url: `${hosts.web}/${release.repo}/releases/download/${release.tag_name}/${encodeURIComponent(asset.name)}`,
  };
}

export function releaseBody(hosts: Hosts, release: ReleaseRecord, assets: Record<string, unknown>[]): Record<string, unknown> {
  const repoApi = `${hosts.api}/repos/${release.repo}`;
  return {
    ...RECORDED_RELEASE,
    url: `${repoApi}/releases/${release.id}`,
    assets_url: `${repoApi}/releases/${release.id}/assets`,
    upload_url: `${hosts.uploads}/repos/${release.repo}/releases/${release.id}/assets{?name,label}`,
    // GitHub shows a draft under an untagged-... name until it is published.
    html_url: `${hosts.web}/${release.repo}/releases/tag/${release.draft ? `untagged-${release.id}` : release.tag_name}`,
    id: release.id,
    author: RECORDED_USER,
    node_id: nodeId('RE_', release.id),
    tag_name: release.tag_name,
    target_commitish: release.target_commitish,
    name: release.name,
    draft: release.draft,
    prerelease: release.prerelease,
    created_at: release.created_at,
    published_at: release.published_at,
    assets,
    tarball_url: release.draft ? null : `${repoApi}/tarball/${release.tag_name}`,
    zipball_url: release.draft ? null : `${repoApi}/zipball/${release.tag_name}`,
    body: release.body,
  };
}

export const DOCS = 'https://docs.github.com/rest';

export function validationFailed(resource: string, field: string, code = 'already_exists'): Record<string, unknown> {
  return { message: 'Validation Failed', errors: [{ resource, code, field }], documentation_url: DOCS, status: '422' };
}
