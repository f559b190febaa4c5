// The one logger every step and every zx command goes through. Every line it
// writes passes mask(), which replaces each registered secret (and its URL- and
// base64-encoded forms) with ***, and the credentials of any URL, so tokens and
// passwords never reach a log.
import { quote } from 'zx/core';
import { scrubUrls } from '../pillar/credentials.ts';
export type LogLevel = 'quiet' | 'info' | 'verbose';

export type Write = (text: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where log lines go (stderr by default). */
  err?: Write;
  /** Where a task's data output goes (stdout by default). */
  out?: Write;
}

const MASK = '***';
/** Shorter forms (a line of a multi-line secret, say) would mask ordinary text. */
const MIN_MASKED_LENGTH = 4;

const REPLACEMENT = '\uFFFD';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A secret as text decoded chunk by chunk shows it: each multi-byte character
 * may have become 1 to 4 U+FFFD where a chunk boundary cut it. zx builds a
 * command's stdout, stderr and error message that way (its chunks are decoded
 * one by one), so those are masked with this too.
 */
function cutForm(value: string): RegExp | undefined {
  if (/^[\x00-\x7f]*$/.test(value)) return undefined;
  return new RegExp([...value].map((c) => (c.charCodeAt(0) < 0x80 ? escapeRegExp(c) : `(?:${escapeRegExp(c)}|${REPLACEMENT}{1,4})`)).join(''), 'g');
}

/** The values to mask, shared by a logger and its children; kept longest first. */
class MaskList {
  readonly #values = new Set<string>();
  #ordered: string[] = [];
  readonly #cut: RegExp[] = [];

  add(value: string): void {
    if (this.#values.has(value)) return;
    this.#values.add(value);
    // Longest first, so a secret that contains another is masked whole.
    this.#ordered = [...this.#values].sort((a, b) => b.length - a.length);
    const cut = cutForm(value);
    if (cut) this.#cut.push(cut);
  }

  get ordered(): readonly string[] {
    return this.#ordered;
  }

  /** Secrets cut inside a character, in text that holds U+FFFD. */
  maskCut(text: string): string {
    return text.includes(REPLACEMENT) ? this.#cut.reduce((masked, form) => masked.replace(form, MASK), text) : text;
  }
}

export class Logger {
  readonly level: LogLevel;
  readonly #err: Write;
  readonly #out: Write;
  readonly #secrets: MaskList;
  readonly #prefix: string;

  constructor(options: LoggerOptions = {}, secrets = new MaskList(), prefix = '') {
    this.level = options.level ?? 'info';
    this.#err = options.err ?? ((text) => process.stderr.write(text));
    this.#out = options.out ?? ((text) => process.stdout.write(text));
    this.#secrets = secrets;
    this.#prefix = prefix;
  }

  /** A logger writing to the same places with the same secrets, lines prefixed. */
  child(prefix: string): Logger {
    return new Logger({ level: this.level, err: this.#err, out: this.#out }, this.#secrets, `${this.#prefix}${prefix} `);
  }

  addSecret(value: string | null | undefined): void {
    if (!value || value.length < MIN_MASKED_LENGTH) return;
    const forms = [
      value,
      encodeURIComponent(value),
      Buffer.from(value).toString('base64'),
      // As zx echoes it in a command line ($'p@ss w\'rd'), and as JSON or a
      // JS message quotes it ("a\"b"): escaped forms differ from the value.
      quote(value).replace(/^\$?'|'$/g, ''),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) if (form.length >= MIN_MASKED_LENGTH) this.#secrets.add(form);
    // Command output is masked line by line: each line of a multi-line secret
    // (a PEM key, say) must be masked on its own too.
    if (value.includes('\n')) for (const line of value.split('\n')) this.addSecret(line.trim());
  }

  mask(text: string): string {
    let masked = scrubUrls(text);
    for (const secret of this.#secrets.ordered) {
      if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    }
    return this.#secrets.maskCut(masked);
  }

  get verbose(): boolean {
    return this.level === 'verbose';
  }

  info(message: string): void {
    if (this.level !== 'quiet') this.#line(message);
  }

  warn(message: string): void {
    this.#line(message, 'warning: ');
  }

  error(message: string): void {
    this.#line(message, 'error: ');
  }

  debug(message: string): void {
    if (this.verbose) this.#line(message);
  }

  /** Raw text for the log stream (already line-shaped), masked. */
  write(text: string): void {
    this.#err(this.mask(text));
  }

  /** A task's data output (pillar:show, pins:outdated...), masked. */
  print(text: string): void {
    this.#out(this.mask(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** `label` ("warning: ") goes before the prefix: "warning: [registry] ...", as a line without a prefix reads. */
  #line(message: string, label = ''): void {
    const lines = message.split('\n').map((line) => `${this.#prefix}${line}`);
    this.#err(this.mask(`${label}${lines.join('\n')}\n`));
  }
}
