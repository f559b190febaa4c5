// The GitHub target. A release is found by tag among all releases (drafts
// included: GET /releases/tags/{tag} does not see drafts), created as a draft
// when absent and published once every asset is in and verified. Every upload
// goes under a temporary name, is verified, and only then takes the real name
// (the old asset deleted just before the rename), so the release always holds a
// good copy of each file. Leftovers of a crashed run (temporary names, assets
// stuck in the `starter` state) are deleted first, but only once they are older
// than a grace period: no lock spans machines, and a fresh one may be another
// run's upload in progress. One decision (#decide) serves the dry run, which
// stops there, and the real run, which carries it out (#apply); the whole
// release is checked again before the draft is published. The token only goes
// to the API's origin and its upload origin (checkTokenDestination).
import { randomBytes } from 'node:crypto';
import type { Octokit } from '@octokit/rest';
import { UserError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { mapLimit, settledValues } from '../../lib/pool.ts';
import { startProgressGroup, type ProgressGroup } from '../../lib/progress.ts';
import { checkTokenDestination, classify, createOctokit, endpoints, explain, type Endpoints } from './github-client.ts';
import { downloadSha256, HttpError, uploadFile } from './http.ts';
import { DEFAULT_RETRY, retryMessage, withRetry, type Failure, type RetryOptions } from './retry.ts';
import { humanSize } from './summary.ts';
import { adoptableCopies, ageText, contentType, isTemporary, leftoverAssets, TEMP_GRACE_MS, tempName, type Asset } from './github-assets.ts';
import type { Action, Outcome, PlanStep, Publisher, PublishFile } from './types.ts';

export { TEMP_GRACE_MS, TEMP_PREFIX, timeStamp } from './github-assets.ts';

export interface GitHubOptions {
  /** OWNER/NAME */
  repo: string;
  tag: string;
  baseUrl: string | null;
  token: string;
  log: Logger;
  /** Uploads at once. */
  concurrency?: number;
  /** Socket inactivity limit of uploads and downloads. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Another run's temporary and `starter` assets are deleted once older than this; TEMP_GRACE_MS by default. */
  tempGraceMs?: number;
}

interface Release {
  id: number;
  tag_name: string;
  draft: boolean;
  upload_url: string;
  html_url: string;
}

interface FileDecision {
  file: PublishFile;
  action: Extract<Action, 'upload' | 'replace' | 'skip'>;
  reason: string;
  existing?: Asset;
}

/** What the release holds and what a publish does to it: the one decision path of plan() and publish(). */
interface Decision {
  /** Undefined: created (as a draft). */
  release?: Release;
  /** Verified copies an interrupted run left under a temporary name, renamed into place. */
  adopt: Map<Asset, PublishFile>;
  leftovers: [Asset, string][];
  /** Temporary assets of another run, perhaps still uploading: left alone. */
  others: Asset[];
  /** The files not adopted. */
  files: FileDecision[];
}

function alreadyExists(error: unknown): boolean {
  const body = error instanceof HttpError ? error.body : (error as { response?: { data?: unknown } })?.response?.data;
  const errors = (body as { errors?: { code?: string }[] } | undefined)?.errors;
  return (error as { status?: number })?.status === 422 && Array.isArray(errors) && errors.some((e) => e.code === 'already_exists');
}

export class GitHubPublisher implements Publisher {
  readonly description: string;
  readonly #options: Required<GitHubOptions>;
  readonly #repoParams: { owner: string; repo: string };
  readonly #endpoints: Endpoints;
  readonly #octokit: Octokit;
  readonly #runId = randomBytes(4).toString('hex');

  constructor(options: GitHubOptions) {
    const [owner, repo] = options.repo.split('/') as [string, string];
    this.#repoParams = { owner, repo };
    this.#options = {
      ...options,
      concurrency: options.concurrency ?? 3,
      timeoutMs: options.timeoutMs ?? 60_000,
      retry: options.retry ?? DEFAULT_RETRY,
      tempGraceMs: options.tempGraceMs ?? TEMP_GRACE_MS,
    };
    this.#endpoints = endpoints(options.baseUrl);
    this.#octokit = createOctokit({ log: options.log }, options.token, this.#endpoints, this.#options.retry);
    this.description = `github ${options.repo} release ${options.tag}${options.baseUrl ? ` on ${options.baseUrl}` : ''}`;
  }

  plan(files: readonly PublishFile[]): Promise<PlanStep[]> {
    return this.#explained(async () => this.#steps(await this.#decide(files)));
  }

  publish(files: readonly PublishFile[]): Promise<Outcome[]> {
    return this.#explained(async () => this.#apply(await this.#decide(files)));
  }

  /** An answer the user can act on (401, 403, 404, 422 on create) becomes one line naming what to check; the stack only with --verbose. */
  async #explained<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      const line = explain(error, { repo: this.#options.repo, tag: this.#options.tag, api: this.#endpoints.api });
      if (!line) throw error;
      this.#options.log.debug(`publish: ${(error as Error).stack ?? String(error)}`);
      throw new UserError(line, { cause: error });
    }
  }

  /** Reads the release; changes nothing. */
  async #decide(files: readonly PublishFile[]): Promise<Decision> {
    const release = await this.#findRelease();
    const assets = release ? await this.#listAssets(release.id) : [];
    const adopt = adoptableCopies(assets, files);
    const leftovers = leftoverAssets(assets, files, adopt, this.#runId, this.#options.tempGraceMs);
    const deleted = new Set(leftovers.map(([asset]) => asset));
    const others = assets.filter((a) => isTemporary(a) && !deleted.has(a) && !adopt.has(a));
    const adopted = new Set(adopt.values());
    const decisions = await this.#decideFiles(files.filter((f) => !adopted.has(f)), assets.filter((a) => !isTemporary(a)));
    return { release, adopt, leftovers, others, files: decisions };
  }

  /** The plan a dry run prints, from the same decision a real run carries out. */
  #steps(decision: Decision): PlanStep[] {
    const { release, adopt, leftovers, files } = decision;
    const steps: PlanStep[] = [];
    if (!release) steps.push({ action: 'create', name: this.#options.tag, reason: 'no release with this tag (created as a draft)' });
    for (const [temp, file] of adopt) steps.push({ action: 'rename', name: file.name, reason: `verified copy left as ${temp.name} by an interrupted run` });
    for (const [leftover, reason] of leftovers) steps.push({ action: 'delete', name: leftover.name, reason });
    for (const d of files) steps.push({ action: d.action, name: d.file.name, reason: d.reason });
    if (!release || release.draft) steps.push({ action: 'publish', name: this.#options.tag, reason: 'draft until every asset is in' });
    return steps;
  }

  async #apply(decision: Decision): Promise<Outcome[]> {
    const log = this.#options.log;
    const release = decision.release ?? (await this.#createDraft());
    const placed = new Map<PublishFile, { asset: Asset; action: Action }>();
    for (const [temp, file] of decision.adopt) {
      log.info(`publish: renaming ${temp.name} to ${file.name} (a verified copy left by an interrupted run)`);
      const { data } = await this.#octokit.rest.repos.updateReleaseAsset({ ...this.#repoParams, asset_id: temp.id, name: file.name });
      placed.set(file, { asset: data as Asset, action: 'rename' });
    }
    for (const [leftover, reason] of decision.leftovers) {
      log.info(`publish: deleting ${leftover.name} (${reason})`);
      await this.#deleteAsset(leftover.id);
    }
    for (const asset of decision.others) {
      log.info(`publish: leaving ${asset.name} alone (${asset.state}, changed ${ageText(asset)} ago: perhaps another run's upload in progress)`);
    }
    const progress = startProgressGroup(log);
    // Every upload runs to its end: one failing leaves the others' verified assets in place.
    const settled = await mapLimit<FileDecision, Asset>(decision.files, this.#options.concurrency, async (d) => (d.action === 'skip' ? d.existing! : this.#place(release, d, progress)));
    settledValues(settled, (errors) => new UserError(errors.map((e) => e.message).join('\n'), { cause: errors[0] })).forEach((asset, i) => placed.set(decision.files[i]!.file, { asset, action: decision.files[i]!.action }));
    const files = [...placed.keys()];
    await this.#verifyRelease(release, files);
    if (release.draft) {
      await this.#octokit.rest.repos.updateRelease({ ...this.#repoParams, release_id: release.id, draft: false });
      log.info(`publish: release ${this.#options.tag} published`);
    }
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((file) => {
      const { asset, action } = placed.get(file)!;
      return { name: file.name, size: file.size, sha256: file.sha256, action, url: asset.browser_download_url };
    });
  }

  async #findRelease(): Promise<Release | undefined> {
    const releases = (await this.#octokit.paginate(this.#octokit.rest.repos.listReleases, { ...this.#repoParams, per_page: 100 })) as Release[];
    const tagged = releases.filter((r) => r.tag_name === this.#options.tag);
    // A published release wins over a draft left by an interrupted run.
    return tagged.find((r) => !r.draft) ?? tagged[0];
  }

  /** POST is not retried blindly: before another attempt, look whether the first one created it. */
  async #createDraft(): Promise<Release> {
    const release = await withRetry(async (attempt) => {
      const found = attempt > 1 ? await this.#findRelease() : undefined;
      if (found) return found;
      const { data } = await this.#octokit.rest.repos.createRelease({
        ...this.#repoParams,
        tag_name: this.#options.tag,
        name: this.#options.tag,
        draft: true,
        body: 'Release files published by corpus-kit.',
      });
      return data as Release;
    }, this.#retryHooks('create release'), this.#options.retry);
    this.#options.log.info(`publish: created draft release ${this.#options.tag}`);
    return release;
  }

  async #listAssets(releaseId: number): Promise<Asset[]> {
    return (await this.#octokit.paginate(this.#octokit.rest.repos.listReleaseAssets, { ...this.#repoParams, release_id: releaseId, per_page: 100 })) as Asset[];
  }

  async #decideFiles(files: readonly PublishFile[], assets: readonly Asset[]): Promise<FileDecision[]> {
    const decisions: FileDecision[] = [];
    for (const file of files) {
      const existing = assets.find((a) => a.name === file.name && a.state === 'uploaded');
      if (!existing) {
        decisions.push({ file, action: 'upload', reason: 'new' });
        continue;
      }
      const sha256 = existing.size === file.size ? await this.#remoteSha256(existing) : undefined;
      const reason = existing.size !== file.size ? `size differs (${existing.size} → ${file.size} bytes)` : sha256 !== file.sha256 ? `sha256 differs (${sha256?.slice(0, 12)})` : undefined;
      decisions.push(reason ? { file, action: 'replace', reason, existing } : { file, action: 'skip', reason: 'identical (size and sha256)', existing });
    }
    return decisions;
  }

  /** The asset's sha256: its `digest` when GitHub gives one, else hashed from a streamed download. */
  async #remoteSha256(asset: Asset): Promise<string> {
    if (asset.digest?.startsWith('sha256:')) return asset.digest.slice('sha256:'.length);
    const { token, timeoutMs } = this.#options;
    const url = checkTokenDestination(asset.url, this.#endpoints, `the url of asset ${asset.name}`);
    const download = await withRetry(() => downloadSha256(url, { token, timeoutMs }), this.#retryHooks(`download of ${asset.name}`), this.#options.retry);
    return download.sha256;
  }

  /** Upload under a temporary name, verify, delete the old asset, rename the new one. */
  async #place(release: Release, decision: FileDecision, progress: ProgressGroup): Promise<Asset> {
    const { file, existing } = decision;
    const temp = tempName(this.#runId, file.name);
    const bar = progress.start(`${decision.action} ${file.name}`, file.size);
    let uploaded: Asset;
    try {
      uploaded = await this.#upload(release, file, temp, bar.update, progress);
      await this.#verifyAsset(uploaded, file, temp);
    } catch (error) {
      bar.fail(error);
      if (error instanceof UserError) throw error;
      await this.#removeNamed(release, temp).catch(() => undefined); // best effort: the next run cleans up too
      throw new UserError(`${file.name}: upload failed: ${(error as Error).message}; the previous asset, if any, is still in place`, { cause: error });
    }
    let renamed: Asset;
    try {
      if (existing) await this.#deleteAsset(existing.id);
      renamed = await this.#putInPlace(release, uploaded, file);
    } catch (error) {
      bar.fail('rename failed');
      throw new UserError(`${file.name}: the new copy is uploaded and verified as ${temp}, but putting it in place failed: ${(error as Error).message}; run publish again to finish`, { cause: error });
    }
    if (renamed.name !== file.name) throw new UserError(`${file.name}: GitHub renamed the asset to ${renamed.name}; use file names of letters, digits, '.', '-' and '_'`);
    bar.end(`${humanSize(file.size)}, verified`);
    return renamed;
  }

  /**
   * The verified upload takes the file's name. Another run publishing at the same
   * time may have taken it first: its copy is kept when it is this very file
   * (ours is then deleted), else it is replaced like any changed asset.
   */
  async #putInPlace(release: Release, uploaded: Asset, file: PublishFile): Promise<Asset> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#octokit.rest.repos.updateReleaseAsset({ ...this.#repoParams, asset_id: uploaded.id, name: file.name })).data as Asset;
      } catch (error) {
        if (!alreadyExists(error) || attempt >= 3) throw error;
        const holder = (await this.#listAssets(release.id)).find((a) => a.name === file.name);
        if (holder?.state === 'uploaded' && holder.size === file.size && (await this.#remoteSha256(holder)) === file.sha256) {
          this.#options.log.info(`publish: ${file.name} was put in place by another run meanwhile, with the same content; keeping it`);
          await this.#deleteAsset(uploaded.id);
          return holder;
        }
        if (holder) await this.#deleteAsset(holder.id);
      }
    }
  }

  async #upload(release: Release, file: PublishFile, name: string, onProgress: (bytes: number) => void, progress: ProgressGroup): Promise<Asset> {
    const url = checkTokenDestination(`${release.upload_url.replace(/\{[^}]*\}$/, '')}?name=${encodeURIComponent(name)}`, this.#endpoints, `the upload_url of release ${this.#options.tag}`);
    const { token, timeoutMs } = this.#options;
    return withRetry(
      () => uploadFile({ url, token, timeoutMs, path: file.path, size: file.size, contentType: contentType(file.name), onProgress }) as Promise<Asset>,
      {
        // A name still taken after a failed attempt is that attempt's leftover: retried once it is removed.
        classify: (error) => (alreadyExists(error) ? { message: `${name} already exists` } : classify(error)),
        beforeRetry: async (failure, attempt, delayMs) => {
          progress.note(retryMessage(`publish: upload of ${file.name}`, failure, attempt, delayMs));
          await this.#removeNamed(release, name);
        },
      },
      this.#options.retry,
    );
  }

  /** State uploaded, same size, same sha256 (digest, or a download); a bad copy is deleted and the task fails naming it. */
  async #verifyAsset(uploaded: Asset, file: PublishFile, temp: string): Promise<void> {
    const { data } = await this.#octokit.rest.repos.getReleaseAsset({ ...this.#repoParams, asset_id: uploaded.id });
    const asset = data as Asset;
    const problem =
      asset.state !== 'uploaded' ? `state ${asset.state}`
      : asset.size !== file.size ? `${asset.size} bytes, expected ${file.size}`
      : await this.#remoteSha256(asset).then((sha256) => (sha256 === file.sha256 ? undefined : `sha256 ${sha256}, expected ${file.sha256}`));
    if (!problem) return;
    await this.#deleteAsset(asset.id);
    throw new UserError(`${file.name}: the uploaded copy (${temp}) failed verification: ${problem}; it was deleted and the previous asset, if any, is still in place`);
  }

  /** Every file present once under its name, uploaded, with its size and (where GitHub gives it) digest. */
  async #verifyRelease(release: Release, files: readonly PublishFile[]): Promise<void> {
    const assets = await this.#listAssets(release.id);
    const problems: string[] = [];
    for (const file of files) {
      const named = assets.filter((a) => a.name === file.name);
      const asset = named[0];
      if (named.length !== 1 || !asset) problems.push(`${file.name}: ${named.length} assets with this name`);
      else if (asset.state !== 'uploaded' || asset.size !== file.size) problems.push(`${file.name}: state ${asset.state}, ${asset.size} bytes (expected uploaded, ${file.size})`);
      else if (asset.digest && asset.digest !== `sha256:${file.sha256}`) problems.push(`${file.name}: digest ${asset.digest}, expected sha256:${file.sha256}`);
    }
    if (problems.length > 0) throw new UserError(`release ${this.#options.tag} failed verification after publishing:\n  ${problems.join('\n  ')}`);
  }

  async #removeNamed(release: Release, name: string): Promise<void> {
    const asset = (await this.#listAssets(release.id)).find((a) => a.name === name);
    if (asset) await this.#deleteAsset(asset.id);
  }

  async #deleteAsset(id: number): Promise<void> {
    try {
      await this.#octokit.rest.repos.deleteReleaseAsset({ ...this.#repoParams, asset_id: id });
    } catch (error) {
      // Already gone (a retried DELETE whose first answer was lost) is what was wanted.
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }

  #retryHooks(what: string) {
    return {
      classify,
      beforeRetry: (failure: Failure, attempt: number, delayMs: number) => this.#options.log.warn(retryMessage(`publish: ${what}`, failure, attempt, delayMs)),
    };
  }
}
