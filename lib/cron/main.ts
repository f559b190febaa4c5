// `node main.js CRONTAB`: the stack's cron process (see scheduler.ts). Built to
// build/cron.js; from the sources it runs under tsx (see command.ts).
import { runScheduler } from './scheduler.ts';

const [file, ...extra] = process.argv.slice(2);
if (!file || extra.length > 0) {
  process.stderr.write('usage: cron CRONTAB\n');
  process.exit(2);
}
try {
  await runScheduler(file);
  process.exit(0);
} catch (error) {
  process.stderr.write(`cron: ${(error as Error).message}\n`);
  process.exit(1);
}
