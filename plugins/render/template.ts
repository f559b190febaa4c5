// The one template -> destination table, the nunjucks environment (autoescape
// off, undefined values are errors) and the escaping filters, registered here
// only. A template receives one typed view, never the pillar or the context.
import nunjucks from 'nunjucks';
import { packageFile } from '../../pillar/package-root.ts';
import type { RenderedFile } from '../api.ts';
import { ESCAPE_FILTERS } from './escape.ts';
import type { CircusView, CrontabView, LogrotateView, NginxView, RedisView, SshdView, SupervisordView } from './views.ts';

const TEMPLATES_DIR = packageFile('templates');

/** What writes each file: template (under templates/) -> destination (under {data_root}/etc/). */
export const TEMPLATES = {
  'nginx/nginx.conf.njk': 'nginx/nginx.conf',
  'supervisor/supervisord.conf.njk': 'supervisor/supervisord.conf',
  'supervisor/with-secrets.sh.njk': 'supervisor/with-secrets.sh',
  'circus/circus.ini.njk': 'circus/circus.ini',
  'sshd/sshd_config.njk': 'ssh/sshd_config',
  'redis/redis.conf.njk': 'redis/redis.conf',
  'logrotate/logrotate.conf.njk': 'logrotate/logrotate.conf',
  'cron/crontab.njk': 'cron/crontab',
} as const;

/** The view each template receives. */
interface Views {
  'nginx/nginx.conf.njk': NginxView;
  'supervisor/supervisord.conf.njk': SupervisordView;
  'supervisor/with-secrets.sh.njk': Record<string, never>;
  'circus/circus.ini.njk': CircusView;
  'sshd/sshd_config.njk': SshdView;
  'redis/redis.conf.njk': RedisView;
  'logrotate/logrotate.conf.njk': LogrotateView;
  'cron/crontab.njk': CrontabView;
}

export type TemplateName = keyof typeof TEMPLATES;

let environment: nunjucks.Environment | undefined;

function env(): nunjucks.Environment {
  if (!environment) {
    environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { noCache: false }), {
      autoescape: false,
      throwOnUndefined: true,
      trimBlocks: true,
      lstripBlocks: true,
    });
    for (const [name, filter] of Object.entries(ESCAPE_FILTERS)) environment.addFilter(name, filter);
  }
  return environment;
}

/** The header line every rendered text file starts with (in the file's comment syntax). */
export function header(what: string): string {
  return `rendered by corpus-kit from ${what}; edit the pillar, not this file`;
}

/** Renders a template with its view into the file its table entry names. */
export function renderTemplate<T extends TemplateName>(template: T, view: Omit<Views[T], 'header'>, options: Pick<RenderedFile, 'mode' | 'secret'> = {}): RenderedFile {
  let content: string;
  try {
    content = env().render(template, { ...view, header: header(`templates/${template}`) });
  } catch (error) {
    // nunjucks wraps a filter's error in "(file) [Line n, Column m]\n  Error: ...".
    const message = (error as Error).message.replace(/\s+/g, ' ').trim();
    throw new Error(`templates/${template}: ${message}`);
  }
  return { path: TEMPLATES[template], content, template: `templates/${template}`, ...options };
}
