// The five time fields of a crontab line (minute hour day-of-month month
// day-of-week) as sets of allowed values, and the match of a minute against
// them, with cron's rule for the two day fields: when both are restricted
// (neither starts with "*"), a day matches if either does.

export interface Schedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Both day fields restricted: day-of-month OR day-of-week. */
  daysEither: boolean;
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday too, as in every cron.
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

/** The @ shorthands and the five fields each stands for. */
const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function value(text: string, field: Field): number {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
  if (!/^\d+$/.test(text)) throw new Error(`${field.name}: "${text}" is not a number${field.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < field.min || n > field.max) throw new Error(`${field.name}: ${n} is outside ${field.min}-${field.max}`);
  return n;
}

/** One field: a comma list of *, N, N-M or a name, each optionally /STEP (N/STEP runs from N to the maximum). */
function parseField(text: string, field: Field): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new Error(`${field.name}: "${item}" is not a value, range or step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? '1')) throw new Error(`${field.name}: step "${stepText}" is not a positive number`);
    let low: number;
    let high: number;
    if (range === '*') [low, high] = [field.min, field.max];
    else if (range.includes('-')) {
      const [from = '', to = '', more] = range.split('-');
      if (more !== undefined) throw new Error(`${field.name}: "${range}" is not a range`);
      [low, high] = [value(from, field), value(to, field)];
      if (low > high) throw new Error(`${field.name}: range "${range}" runs backwards`);
    } else {
      low = value(range, field);
      high = stepText === undefined ? low : field.max;
    }
    for (let n = low; n <= high; n += step) values.add(field.name === 'day of week' && n === 7 ? 0 : n);
  }
  return values;
}

/** The five fields of a line ("*\/5 * * * *") or an @ shorthand other than @reboot. */
export function parseSchedule(text: string): Schedule {
  if (text.startsWith('@') && !SHORTHANDS[text]) throw new Error(`unknown shorthand "${text}" (known: @reboot, ${Object.keys(SHORTHANDS).join(', ')})`);
  const fields = (SHORTHANDS[text] ?? text).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected 5 time fields, got ${fields.length}: "${text}"`);
  const [minutes, hours, days, months, weekdays] = FIELDS.map((field, i) => parseField(fields[i]!, field)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { minutes, hours, days, months, weekdays, daysEither: !fields[2]!.startsWith('*') && !fields[4]!.startsWith('*') };
}

/** Whether the schedule fires in the minute that holds `at` (local time, as cron). */
export function matches(schedule: Schedule, at: Date): boolean {
  if (!schedule.minutes.has(at.getMinutes()) || !schedule.hours.has(at.getHours()) || !schedule.months.has(at.getMonth() + 1)) return false;
  const day = schedule.days.has(at.getDate());
  const weekday = schedule.weekdays.has(at.getDay());
  return schedule.daysEither ? day || weekday : day && weekday;
}
