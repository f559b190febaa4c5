// Runs the real gulp CLI in a project directory and captures what a user sees.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GULP_BIN = fileURLToPath(new URL('../../node_modules/gulp/bin/gulp.js', import.meta.url));

export interface GulpRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never printed" checks. */
  all: string;
}

export function runGulp(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<GulpRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GULP_BIN, '--cwd', cwd, ...args], {
      cwd,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let all = '';
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk), (all += chunk)));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk), (all += chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, all });
    });
  });
}
