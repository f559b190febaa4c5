// Every benchmark, one after the other (npm run bench).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checksumBench } from './checksum.ts';
import { imageBench } from './image.ts';
import { pipelineBench } from './pipeline.ts';
import { profileBench } from './profile.ts';
import { renderBench } from './render.ts';
import { startupBench } from './startup.ts';

for (const [name, bench] of [['pipeline', pipelineBench], ['profile', profileBench], ['startup', startupBench], ['checksum', checksumBench], ['render', renderBench], ['image', imageBench]] as const) {
  console.log(`# ${name}`);
  console.log((await bench()).join('\n'));
}
// The upload bench measures its publishing process's peak RSS, so it runs in processes of its own.
console.log('# upload');
const upload = spawnSync(process.execPath, ['--import=tsx', fileURLToPath(new URL('./upload.ts', import.meta.url))], { stdio: 'inherit' });
process.exitCode = upload.status ?? 1;
