// The build tasks, each a slice of the one ordered pipeline: a step runs the
// steps before it (fetch → compile → package → publish), every step skipping
// what is already up to date; `release` records what it left (tasks/stamp.ts)
// and stops at once when nothing changed since. A new step (render, image) is
// one line here.
import { Pipeline, runPipes, type Pipe } from '../lib/pipe.ts';
import { compilePipe } from './compile.ts';
import { fetchPipe } from './fetch.ts';
import { packagePipe } from './package.ts';
import { publishPipes } from './publish/index.ts';
import { pinsOutdatedTask } from './pins.ts';
import { releaseSettings, releaseUpToDate, stampPipe } from './stamp.ts';
import { defineTask } from './task.ts';

/** The release steps in order. */
export const pipeline = new Pipeline([fetchPipe, compilePipe, packagePipe, ...publishPipes]);

const through = (pipes: readonly Pipe[]) => async (ctx: Parameters<typeof runPipes>[0]) => runPipes(ctx, pipes);

/** A build task that runs the pipeline through its own step: compile fetches first, package compiles first. */
const stepTask = <const N extends 'fetch' | 'compile' | 'package'>(name: N, description: string) =>
  defineTask({ name, description, flags: ['only', 'repin'], run: through(pipeline.upTo(name)) });

export const buildTasks = [
  stepTask('fetch', 'Fetch the pinned sources into the source cache; write/check corpus.lock.json'),
  stepTask('compile', 'Build every binary in its builder container (fetching first)'),
  stepTask('package', 'xz + checksums + manifest into dist/release/ (compiling first)'),
  defineTask({
    name: 'publish',
    description: 'Upload dist/release/ to the publish target (a local folder or a GitHub release), verified',
    flags: ['target', 'dryRun'],
    run: through(pipeline.between('publish:load')),
  }),
  defineTask({
    name: 'release',
    description: 'fetch -> compile -> package -> publish (--dry-run: publish prints its plan only); up to date when nothing changed since the last one',
    flags: ['only', 'repin', 'target', 'dryRun', 'force'],
    async run(ctx) {
      const settings = releaseSettings(ctx);
      settings.catch(() => undefined); // awaited by the stamp step, which an early failure never reaches
      if (await releaseUpToDate(ctx, settings)) return;
      await runPipes(ctx, [...pipeline.pipes, stampPipe(settings)]);
    },
  }),
  pinsOutdatedTask,
];
