// This repository's own pipeline, built from the library's task factories.
import gulp from 'gulp';
import { createTasks, registerTasks } from './index.ts';

registerTasks(gulp, await createTasks({ cwd: import.meta.dirname }));
