// Every file of the stack: what plugins added as files, and what their render
// hooks return for the frozen model; each checked like any registration, each
// path owned once. Then the checks that span files: ports, the token settings.
import { UserError } from '../../lib/errors.ts';
import { FileSpecSchema, type RenderedFile } from '../../plugins/api.ts';
import type { PluginRegistry } from '../../plugins/host.ts';
import type { Stack } from '../../plugins/stack.ts';
import { formatProblem } from '../../pillar/problems.ts';
import { validate } from '../../pillar/validate.ts';

export interface StackFile extends RenderedFile {
  owner: string;
}

export function renderFiles(stack: Stack, plugins: PluginRegistry): StackFile[] {
  const files: StackFile[] = stack.files.map(({ owner, value }) => ({ ...value, owner }));
  for (const { owner, value: render } of plugins.renderers) {
    let rendered: RenderedFile[];
    try {
      rendered = render(stack);
    } catch (error) {
      throw new UserError(`render: plugin "${owner}": ${(error as Error).message}`);
    }
    for (const file of rendered) {
      const { template: _template, ...spec } = file;
      const problems = validate(FileSpecSchema, spec);
      if (problems.length > 0) throw new UserError(`render: plugin "${owner}" rendered a bad file:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
      files.push({ ...file, owner });
    }
  }
  const owners = new Map<string, string>();
  for (const file of files) {
    const previous = owners.get(file.path);
    if (previous) throw new UserError(`render: file "${file.path}" is written twice: by plugin "${previous}" and by plugin "${file.owner}"`);
    owners.set(file.path, file.owner);
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** Ports are unique across processes and nginx's listeners; a route may only point at its own plugin's process. */
export function checkPorts(stack: Stack): void {
  const owners = new Map<number, string>();
  for (const { owner, value } of stack.processes) {
    for (const port of value.ports ?? []) {
      const previous = owners.get(port);
      if (previous && previous !== `plugin "${owner}" (process ${value.name})`) {
        throw new UserError(`render: port ${port} is used twice: by ${previous} and by plugin "${owner}" (process ${value.name})`);
      }
      owners.set(port, `plugin "${owner}" (process ${value.name})`);
    }
  }
  for (const { owner, value } of stack.routes) {
    const listener = owners.get(value.upstream.port);
    if (listener && !listener.startsWith(`plugin "${owner}" `)) {
      throw new UserError(`render: route ${value.prefix} of plugin "${owner}" points at port ${value.upstream.port}, which is used by ${listener}`);
    }
  }
}

/** The token realm is served by docker_auth's route: both come from the pillar and must agree. */
export function checkToken(stack: Stack): void {
  const { pillar } = stack;
  if (pillar.auth.mode !== 'token') return;
  const path = new URL(stack.token.realm).pathname;
  if (!path.startsWith(pillar.auth_server.route)) {
    throw new UserError(`render: auth.token.realm ${stack.token.realm} is not under auth_server.route ${pillar.auth_server.route}: docker clients would ask nginx for a token where docker_auth does not answer`);
  }
}

/**
 * What the dynamic loader and libc read from the environment (glibc drops them
 * for setuid programs; a root shell keeps them): a process started as root
 * through the secrets wrapper may not set them.
 */
const LOADER_VARIABLES = /^(LD_\w*|GCONV_PATH|GETCONF_DIR|HOSTALIASES|LOCALDOMAIN|LOCPATH|MALLOC_\w*|NIS_PATH|NLSPATH|RESOLV_HOST_CONF|RES_OPTIONS|TMPDIR|TZDIR)$/;

/**
 * Every private file a process reads (secret_env, secret_stdin) is one a
 * renderer returns as private; such a process sets no loader variable.
 */
export function checkProcessSecrets(stack: Stack, files: readonly StackFile[]): void {
  const privateFiles = new Set(files.filter((f) => f.private).map((f) => f.path));
  for (const { owner, value } of stack.processes) {
    if (!value.secret_env && !value.secret_stdin) continue;
    const loader = [...Object.keys(value.environment ?? {}), ...Object.keys(value.secret_env ?? {})].filter((name) => LOADER_VARIABLES.test(name));
    if (loader.length > 0) {
      throw new UserError(`render: process ${value.name} of plugin "${owner}" sets ${loader.join(', ')}: a process with secrets starts as root (to read them), where the loader would obey it; set it in the program's own start script instead`);
    }
    const wanted = [...Object.values(value.secret_env ?? {}), ...(value.secret_stdin ? [value.secret_stdin] : [])];
    const missing = wanted.filter((path) => !privateFiles.has(path));
    if (missing.length > 0) {
      throw new UserError(`render: process ${value.name} of plugin "${owner}" reads ${missing.join(', ')}, which no renderer returns as a private file (a file with private: true)`);
    }
  }
}
