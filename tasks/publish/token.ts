// The GitHub token: GITHUB_TOKEN or GH_TOKEN, never the old account password.
import { UserError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';

export const TOKEN_ENV = ['GITHUB_TOKEN', 'GH_TOKEN'] as const;

/** The token from GITHUB_TOKEN or GH_TOKEN (environment or .env), registered with the mask at once. */
export function readToken(env: NodeJS.ProcessEnv, log: Logger): string {
  if (env.GH_USER || env.GH_PASSWORD) {
    log.addSecret(env.GH_PASSWORD);
    throw new UserError(
      'GH_USER/GH_PASSWORD are set, but GitHub no longer accepts account passwords for its API. ' +
        'Create a token (a fine-grained token with "Contents: read and write" on the repository, or a classic token with the repo scope), ' +
        'put it in GITHUB_TOKEN (environment or .env), and unset GH_USER and GH_PASSWORD.',
    );
  }
  const name = TOKEN_ENV.find((n) => env[n]);
  if (!name) throw new UserError('publish.target is github but neither GITHUB_TOKEN nor GH_TOKEN is set (environment or .env); a token needs "Contents: read and write" on the repository');
  const token = env[name]!.trim();
  log.addSecret(token);
  return token;
}
