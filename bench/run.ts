// Every benchmark, one after the other (npm run bench).
import { checksumBench } from './checksum.ts';
import { pipelineBench } from './pipeline.ts';

for (const [name, bench] of [['pipeline', pipelineBench], ['checksum', checksumBench]] as const) {
  console.log(`# ${name}`);
  console.log((await bench()).join('\n'));
}
