// Real git repositories for the fetch and build tests: a working copy made
// from a fixture directory, pushed to a bare repository that the pillar points
// at, with tags created, moved and pushed the way an upstream would.
import { execFileSync } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'corpus-kit test', GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'corpus-kit test', GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export class UpstreamRepo {
  constructor(readonly work: string, readonly bare: string) {}

  /** Working copy of `fixture`, one commit, pushed to a new bare repository. */
  static async create(root: string, name: string, fixture: string): Promise<UpstreamRepo> {
    const work = join(root, `${name}-work`);
    const bare = join(root, `${name}.git`);
    await mkdir(root, { recursive: true });
    await cp(fixture, work, { recursive: true });
    git(work, 'init', '--quiet', '--initial-branch=main');
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', `${name} fixture`);
    git(root, 'init', '--quiet', '--bare', bare);
    git(work, 'push', '--quiet', bare, 'main');
    return new UpstreamRepo(work, bare);
  }

  head(): string {
    return git(this.work, 'rev-parse', 'HEAD');
  }

  /** Commits a change to `file` and pushes main; returns the new commit. */
  commit(file: string, content: string, message: string): string {
    execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', content, join(this.work, file)]);
    git(this.work, 'add', '-A');
    git(this.work, 'commit', '--quiet', '-m', message);
    git(this.work, 'push', '--quiet', this.bare, 'main');
    return this.head();
  }

  /** An annotated tag on HEAD (or `commit`), pushed; `force` moves an existing tag. */
  tag(name: string, options: { commit?: string; force?: boolean } = {}): void {
    git(this.work, 'tag', ...(options.force ? ['-f'] : []), '-a', '-m', name, name, options.commit ?? 'HEAD');
    git(this.work, 'push', '--quiet', ...(options.force ? ['--force'] : []), this.bare, `refs/tags/${name}`);
  }

  branch(name: string): void {
    git(this.work, 'push', '--quiet', this.bare, `HEAD:refs/heads/${name}`);
  }
}
