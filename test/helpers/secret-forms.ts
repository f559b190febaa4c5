// Every form in which a secret could leak, built here on its own (never with the
// logger's code): as is, each line of a multi-line secret, both halves, bash
// $'...' quoting as zx echoes a command, JSON escapes (plain and \uXXXX),
// URL encoding (component and form), base64 (standard and url-safe).

/** Shorter forms would match ordinary text by chance; every test secret is longer. */
const MIN_FORM_LENGTH = 8;

/** The inside of bash's $'...' (ANSI-C) quoting: backslash, quote and control characters escaped. */
export function ansiCQuoted(value: string): string {
  const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\0': '\\0' };
  return [...value].map((c) => named[c] ?? c).join('');
}

/** JSON string escapes with every non-ASCII character as \uXXXX (what ensure_ascii encoders write). */
function jsonAscii(value: string): string {
  return JSON.stringify(value).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** name → text, for every form of `value` (forms equal to another are kept once). */
export function secretForms(value: string): Map<string, string> {
  const forms = new Map<string, string>();
  const add = (name: string, text: string) => {
    if (text.length >= MIN_FORM_LENGTH && ![...forms.values()].includes(text)) forms.set(name, text);
  };
  add('raw', value);
  value.split('\n').forEach((line, i) => add(`line ${i + 1}`, line.trim()));
  add("zx $'...' quoting", ansiCQuoted(value));
  add('JSON escaped', JSON.stringify(value).slice(1, -1));
  add('JSON \\u-escaped', jsonAscii(value));
  add('URL-encoded', encodeURIComponent(value));
  add('form-encoded', new URLSearchParams({ v: value }).toString().slice(2));
  add('base64', Buffer.from(value).toString('base64'));
  add('base64url', Buffer.from(value).toString('base64url'));
  return forms;
}

/** What of `secrets` `text` shows: "<secret name>: <form>" for each form found, and for both halves found. */
export function leaks(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    for (const [form, encoded] of secretForms(value)) if (text.includes(encoded)) found.push(`${name}: ${form}`);
    // A secret split across output chunks must not get through piecewise either.
    const half = Math.floor(value.length / 2);
    if (half >= MIN_FORM_LENGTH && text.includes(value.slice(0, half)) && text.includes(value.slice(half))) found.push(`${name}: both halves`);
  }
  return found;
}
