// corpus-kit's library entry: task factories for a gulpfile, the plugin API,
// and the pieces a custom step needs.
export { createTasks, registerTasks, kitTasks, type CreateTasksOptions, type GulpTask } from './tasks/index.ts';
export { defineTask, type KitTask } from './tasks/task.ts';
export { definePlugin, pluginFactory, type Plugin, type PluginHost, type ProcessSpec, type RouteSpec, type FileSpec, type RenderedFile, type Renderer, type TaskSpec } from './plugins/api.ts';
export type { Stack } from './plugins/stack.ts';
// Plugin option schemas are TypeBox objects: a plugin needs no dependency of its own to write one.
export { Type, type Static } from '@sinclair/typebox';
export { createContext, type Context, type ContextOptions } from './lib/context.ts';
export { runPipes, type Pipe } from './lib/pipe.ts';
export { Logger } from './lib/logger.ts';
export { UserError } from './lib/errors.ts';
export { loadPillar } from './pillar/loader.ts';
export { PillarError, type Problem } from './pillar/problems.ts';
export { PillarSchema, type Pillar } from './pillar/schema.ts';
export type { Artifact } from './lib/artifacts.ts';
