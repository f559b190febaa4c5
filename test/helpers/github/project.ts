// A project directory for publish tests: our own dist/release/, a GitHub
// emulator, and the real `publish` task run in-process (createTasks) with
// everything it prints captured.
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { runKitTasks } from '../tasks.ts';
import { ArtifactList } from '../../../lib/artifacts.ts';
import { readManifest } from '../../../lib/manifest.ts';
import { manifestArtifacts, releaseFiles } from '../../../tasks/publish/release-files.ts';
import type { PublishFile } from '../../../tasks/publish/types.ts';
import { tempDir } from '../tmp.ts';
import { GitHubEmulator, type EmulatorOptions } from './emulator.ts';
import { writeReleaseDir, type ReleaseDir } from './release-dir.ts';

/** Long and unusual enough that any occurrence in output is a leak. */
export const TOKEN = 'ghp_EmulatorT0ken4Publish9Tests8zQ';
export const REPO = 'acme/corpus';
export const TAG = 'attachedfiles';

export interface PublishRun {
  out: string;
  err: string;
  error?: Error;
  /** Everything captured, for leak checks. */
  all: string;
}

export interface PublishProject {
  cwd: string;
  release: ReleaseDir;
  emulator: GitHubEmulator;
  /** The pillar overrides the runs use. */
  pillar: Record<string, unknown>;
  run(argv?: readonly string[], env?: NodeJS.ProcessEnv): Promise<PublishRun>;
}

export async function publishProject(t: ExecutionContext, options: Partial<EmulatorOptions> & { target?: 'github' | 'local' } = {}): Promise<PublishProject> {
  const cwd = await tempDir(t, 'corpus-kit-publish-');
  const emulator = await GitHubEmulator.start({ token: TOKEN, ...options });
  t.teardown(() => emulator.stop());
  const release = await writeReleaseDir(join(cwd, 'dist/release'));
  const pillar = {
    data_root: join(cwd, 'data'),
    publish: { target: options.target ?? 'github', local: { dir: 'published' }, github: { repo: REPO, tag: TAG, base_url: emulator.baseUrl } },
  };
  return {
    cwd,
    release,
    emulator,
    pillar,
    async run(argv = [], env = { GITHUB_TOKEN: TOKEN }) {
      const { out, err, error } = await runKitTasks({ cwd, argv, env, pillar: [pillar] }, ['publish']);
      return { out, err, error, all: `${out}${err}${error?.message ?? ''}${error?.stack ?? ''}` };
    },
  };
}

/** The names of the release's assets, sorted. */
export function assetNames(emulator: GitHubEmulator): string[] {
  return emulator.assets(REPO, TAG).map((a) => a.name as string).sort();
}

/** The checked publish files of a release directory, as the load step reads them. */
export async function filesOf(dir: string): Promise<PublishFile[]> {
  const artifacts = new ArtifactList();
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`${dir}: no manifest.json`);
  for (const artifact of manifestArtifacts(dir, manifest)) artifacts.add(artifact);
  return releaseFiles({ artifacts });
}
