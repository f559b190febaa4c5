// A user crontab as the kit renders it: comments, NAME=value assignments
// (SHELL and PATH among them, given to every job), and entries of five time
// fields or an @ shorthand followed by the command. "%" is not special: a
// command is passed to the shell as written.
import { matches, parseSchedule, type Schedule } from './schedule.ts';

export interface CronEntry {
  /** 1-based line in the crontab. */
  line: number;
  /** null: @reboot, run once when the scheduler starts. */
  schedule: Schedule | null;
  command: string;
}

export interface Crontab {
  environment: Record<string, string>;
  entries: CronEntry[];
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

function unquote(text: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(text.trim());
  return quoted ? quoted[2]! : text.trim();
}

/** Parses a crontab; a bad line throws "WHERE:LINE: what is wrong". */
export function parseCrontab(text: string, where: string): Crontab {
  const environment: Record<string, string> = {};
  const entries: CronEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const assignment = ASSIGNMENT.exec(line);
    if (assignment) {
      environment[assignment[1]!] = unquote(assignment[2]!);
      return;
    }
    try {
      entries.push({ line: index + 1, ...parseEntry(line) });
    } catch (error) {
      throw new Error(`${where}:${index + 1}: ${(error as Error).message}`);
    }
  });
  return { environment, entries };
}

function parseEntry(line: string): Omit<CronEntry, 'line'> {
  if (line.startsWith('@')) {
    const [, shorthand = '', command = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (command === '') throw new Error(`${shorthand}: no command`);
    return { schedule: shorthand === '@reboot' ? null : parseSchedule(shorthand), command };
  }
  const fields = line.split(/\s+/);
  const command = line.replace(/^(\S+\s+){5}/, '');
  if (fields.length < 6 || command === line) throw new Error(`expected 5 time fields and a command: "${line}"`);
  return { schedule: parseSchedule(fields.slice(0, 5).join(' ')), command };
}

/** The entries due in the minute that holds `at` (never @reboot ones). */
export function dueEntries(crontab: Crontab, at: Date): CronEntry[] {
  return crontab.entries.filter((entry) => entry.schedule !== null && matches(entry.schedule, at));
}
