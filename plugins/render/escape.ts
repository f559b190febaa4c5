// One escaping function per target syntax, registered as template filters in
// one place (template.ts). Values are typed before they get here; these are the
// last line: each either returns text the target reads back as the same value,
// or refuses it (EscapeError) rather than write something that changes meaning.

export class EscapeError extends Error {
  constructor(syntax: string, value: string, why: string) {
    super(`${syntax}: cannot write ${JSON.stringify(value)}: ${why}`);
    this.name = 'EscapeError';
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function refuseControl(syntax: string, value: string): void {
  if (CONTROL.test(value)) throw new EscapeError(syntax, value, 'control characters (newline, tab...) end or split a line');
}

/**
 * nginx: a double-quoted string. `\` and `"` are escaped; `$` is refused because
 * many directives expand variables inside strings and nginx has no escape for it.
 */
export function nginxQuote(value: string): string {
  refuseControl('nginx', value);
  if (value.includes('$')) throw new EscapeError('nginx', value, 'nginx expands $ as a variable');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * supervisord ini. `%` is doubled (its expansion fails on a bare %), and a
 * space or tab before `;` or `#` is refused because the ini reader cuts an
 * inline comment there whatever the quotes. command= and environment= are read
 * with shlex, which strips edge quotes: there the value is quoted (`quoted`);
 * other options (paths) are taken verbatim, so quotes and spaces are refused.
 */
export function supervisorQuote(value: string, quoted = true): string {
  refuseControl('supervisord', value);
  if (/\s[;#]/.test(value)) throw new EscapeError('supervisord', value, 'a space before ; or # starts a comment in supervisord.conf');
  if (value.includes('\\')) throw new EscapeError('supervisord', value, 'a backslash is read as an escape by command= and not by environment=');
  const doubled = value.replace(/%/g, '%%');
  if (!quoted) {
    if (/[\s"']/.test(value) || value === '') throw new EscapeError('supervisord', value, 'this option is read verbatim: no spaces or quotes');
    return doubled;
  }
  const quote = value.includes('"') ? "'" : '"';
  if (value.includes(quote)) throw new EscapeError('supervisord', value, 'both kinds of quotes in one value');
  return `${quote}${doubled}${quote}`;
}

/**
 * circus ini: Python's ConfigParser with % interpolation (doubled), no inline
 * comments; values are stripped, so edge whitespace is refused; circus expands
 * $VAR and $(circus.*) in values, so `$` is refused.
 */
export function circusValue(value: string): string {
  refuseControl('circus', value);
  if (value !== value.trim()) throw new EscapeError('circus', value, 'leading or trailing whitespace is stripped by the ini reader');
  if (value.includes('$')) throw new EscapeError('circus', value, 'circus expands $ as a variable');
  return value.replace(/%/g, '%%');
}

/** sshd_config: an argument, double-quoted when it holds a space or `#`; `"` cannot be escaped. */
export function sshdValue(value: string): string {
  refuseControl('sshd', value);
  if (value.includes('"')) throw new EscapeError('sshd', value, 'sshd_config has no escape for "');
  return /[\s#]/.test(value) || value === '' ? `"${value}"` : value;
}

/** redis.conf: a double-quoted argument with `\` and `"` escaped (sdssplitargs). */
export function redisQuote(value: string): string {
  refuseControl('redis', value);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The registry's environment overrides (REGISTRY_HTTP_SECRET...): it parses the
 * value as YAML into the field, so `a: b`, `- x`, `null` or `123` would not come
 * back as written. A JSON string is a YAML double-quoted scalar of exactly that text.
 */
export function registryEnvValue(value: string): string {
  // JSON leaves DEL and the C1 controls raw, which YAML does not allow in a scalar.
  return JSON.stringify(value).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** logrotate: a double-quoted path; a quote or a brace would end it or open a block. */
export function logrotatePath(value: string): string {
  refuseControl('logrotate', value);
  if (/["{}\\]/.test(value)) throw new EscapeError('logrotate', value, 'quotes, braces and backslashes end a path or open a block');
  return `"${value}"`;
}

/** The filters templates use, one per syntax. */
export const ESCAPE_FILTERS = {
  nginx: nginxQuote,
  supervisor: supervisorQuote,
  circus: circusValue,
  sshd: sshdValue,
  redis: redisQuote,
  logrotate: logrotatePath,
} as const;
