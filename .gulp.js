// This repository's gulp-cli configuration: the kit's quiet-stdout settings, and
// node re-spawned with tsx so gulpfile.ts and the kit's sources load as they are.
// (An ES module: gulp-cli require()s it, and logs a loader line for a .cjs one.)
import config from './gulp-config.cjs';

export const { message } = config;
export const nodeFlags = ['--import=tsx'];
