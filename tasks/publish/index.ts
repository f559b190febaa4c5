// The publish step: the release files go to publish.target (or --target):
// `local` (a folder) or `github` (a release). --dry-run prints the plan only.
import { resolve } from 'node:path';
import type { Context } from '../../lib/context.ts';
import { lockTimeoutMs } from '../../lib/lock.ts';
import type { Pipe } from '../../lib/pipe.ts';
import { readToken } from './token.ts';
import { LocalPublisher } from './local.ts';
import { checkedReleaseFiles, loadReleasePipe } from './release-files.ts';
import { planText, summaryText } from './summary.ts';
import type { Publisher } from './types.ts';

/** This run's publish target: --target, else publish.target. */
export const publishTarget = (ctx: Pick<Context, 'flags' | 'pillar'>) => ctx.flags.target ?? ctx.pillar.publish.target;

/** The folder the local target shows the release in: publish.local.dir/<tag>. */
export const localPublishDir = (ctx: Pick<Context, 'cwd' | 'pillar'>) => resolve(ctx.cwd, ctx.pillar.publish.local.dir, ctx.pillar.publish.github.tag);

/** The publisher of this run's target; octokit is only loaded for a GitHub target. */
async function publisherFor(ctx: Context): Promise<Publisher> {
  const { publish } = ctx.pillar;
  if (publishTarget(ctx) === 'local') return new LocalPublisher(localPublishDir(ctx), ctx.log, { lockTimeoutMs: lockTimeoutMs(ctx.env, 600) });
  const { GitHubPublisher } = await import('./github.ts');
  return new GitHubPublisher({ repo: publish.github.repo, tag: publish.github.tag, baseUrl: publish.github.base_url, token: readToken(ctx.env, ctx.log), log: ctx.log });
}

const publishPipe: Pipe = {
  name: 'publish',
  async run(ctx) {
    const publisher = await publisherFor(ctx);
    const files = await checkedReleaseFiles(ctx);
    if (ctx.flags.dryRun) {
      ctx.log.print(planText(publisher.description, await publisher.plan(files)));
      return;
    }
    ctx.log.info(`publish: ${files.length} files to ${publisher.description}`);
    ctx.log.print(summaryText(publisher.description, await publisher.publish(files)));
  },
};

/** The steps `release` ends with: load dist/release/ if this run packaged nothing, then publish. */
export const publishPipes: readonly Pipe[] = [loadReleasePipe, publishPipe];
