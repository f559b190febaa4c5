// gulp-cli's configuration for a project run with corpus-kit: its `.gulp.js` is
//   module.exports = require('corpus-kit/gulp-config');   (a CommonJS project)
//   export { message } from 'corpus-kit/gulp-config';     (an ES module project)
// plus `nodeFlags: ['--import=tsx']` for a gulpfile.ts. A `.gulp.cjs` would work
// too, but gulp-cli logs a loader line for it before reading it.
// gulp-cli writes its loader chatter and task progress to stdout with
// timestamps; a data task's stdout must hold only its data
// (`gulp pillar:show > pillar.yml`). So the loader lines are dropped, and the
// progress lines go to stderr, like every log line of the kit.
'use strict';

const tag = (name) => Symbol.for(`GULP_CLI_${name}`);

/** Liftoff's loader and respawn notices: noise once the gulpfile loads. */
const DROPPED = new Set(['PRELOAD_BEFORE', 'PRELOAD_SUCCESS', 'LOADER_SUCCESS', 'NODE_FLAGS', 'RESPAWNED', 'CWD_CHANGED'].map(tag));

function duration([seconds, nanoseconds]) {
  const ms = seconds * 1e3 + nanoseconds / 1e6;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Progress, warnings and task errors as plain log lines on stderr (gulp-cli prints the first two on stdout). */
const LOG_LINES = new Map([
  [tag('GULPFILE'), (data) => `Using gulpfile ${data.path}`],
  [tag('TASK_START'), (data) => `Starting '${data.task}'...`],
  [tag('TASK_STOP'), (data) => `Finished '${data.task}' after ${duration(data.duration)}`],
  [tag('TASK_FAILURE'), (data) => `'${data.task}' errored after ${duration(data.duration)}`],
  [tag('TASK_ERROR'), (data) => data.message],
  [tag('PRELOAD_FAILURE'), (data) => `Failed to preload external module: ${data.name}`],
  [tag('LOADER_FAILURE'), (data) => `Failed to load external module: ${data.name}`],
  [tag('PRELOAD_ERROR'), (data) => String(data.error)],
  [tag('LOADER_ERROR'), (data) => String(data.error)],
]);

exports.message = function message(data) {
  if (typeof data === 'string') { // a gulp plugin's own log line
    process.stderr.write(`${data}\n`);
    return false;
  }
  if (DROPPED.has(data.tag)) return false;
  const line = LOG_LINES.get(data.tag);
  if (!line) return undefined; // gulp-cli's own text (task lists; errors already go to stderr)
  process.stderr.write(`${line(data)}\n`);
  return false;
};
