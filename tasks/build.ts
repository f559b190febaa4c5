// The build tasks: each runs the steps before it (fetch → compile → package →
// publish), every step skipping what is already up to date.
import { runPipes, type Pipe } from '../lib/pipe.ts';
import { compilePipe } from './compile.ts';
import { fetchPipe } from './fetch.ts';
import { packagePipe } from './package.ts';
import { publishPipes, publishTask } from './publish/index.ts';
import { pinsOutdatedTask } from './pins.ts';
import { defineTask } from './task.ts';

/** The release steps in order. */
const releasePipes: readonly Pipe[] = [fetchPipe, compilePipe, packagePipe, ...publishPipes];

const through = (pipes: readonly Pipe[]) => async (ctx: Parameters<typeof runPipes>[0]) => runPipes(ctx, pipes);

export const buildTasks = [
  defineTask({
    name: 'fetch',
    description: 'Fetch the pinned sources into the source cache; write/check corpus.lock.json',
    flags: ['only', 'repin'],
    run: through([fetchPipe]),
  }),
  defineTask({
    name: 'compile',
    description: 'Build every binary in its builder container (fetching first)',
    flags: ['only', 'repin'],
    run: through([fetchPipe, compilePipe]),
  }),
  defineTask({
    name: 'package',
    description: 'xz + checksums + manifest into dist/release/ (compiling first)',
    flags: ['only', 'repin'],
    run: through([fetchPipe, compilePipe, packagePipe]),
  }),
  publishTask,
  defineTask({
    name: 'release',
    description: 'fetch -> compile -> package -> publish (--dry-run: publish prints its plan only)',
    flags: ['only', 'repin', 'target', 'dryRun'],
    run: through(releasePipes),
  }),
  pinsOutdatedTask,
];
