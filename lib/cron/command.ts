// The command line that starts the stack's cron (main.ts) with the node that
// runs the kit: from the compiled package, build/cron.js; from the sources,
// main.ts under tsx (node 20 does not run TypeScript itself).
import { fileURLToPath } from 'node:url';
import { packageFile } from '../../pillar/package-root.ts';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export function cronCommand(crontab: string): string[] {
  if (!FROM_SOURCES) return [process.execPath, packageFile('build', 'cron.js'), crontab];
  return [process.execPath, `--import=${fileURLToPath(import.meta.resolve('tsx'))}`, packageFile('lib', 'cron', 'main.ts'), crontab];
}
