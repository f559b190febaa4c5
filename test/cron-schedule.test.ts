// The stack's cron scheduler, as pure functions: which minutes a schedule
// matches (local time, given a Date), how a crontab is read, and render
// refusing a bad entry a plugin registers.
import test from 'ava';
import { loadPillar } from '../pillar/loader.ts';
import { definePlugin } from '../plugins/api.ts';
import { builtinPlugins } from '../plugins/builtin/index.ts';
import { setupPlugins } from '../plugins/host.ts';
import { freezeStack } from '../plugins/stack.ts';
import { renderFiles } from '../tasks/render/files.ts';
import { dueEntries, parseCrontab } from '../lib/cron/crontab.ts';
import { matches, parseSchedule } from '../lib/cron/schedule.ts';

/** Local time, as cron reads the clock: 2026-03-02 is a Monday. */
const at = (day: number, hour: number, minute: number, month = 3) => new Date(2026, month - 1, day, hour, minute, 30);

const TABLE: [schedule: string, when: Date, expected: boolean][] = [
  ['* * * * *', at(2, 13, 7), true],
  ['7 13 * * *', at(2, 13, 7), true],
  ['7 13 * * *', at(2, 13, 8), false],
  ['7 13 * * *', at(2, 14, 7), false],
  // steps: from the field's start, from a value, over a range
  ['*/15 * * * *', at(2, 1, 45), true],
  ['*/15 * * * *', at(2, 1, 50), false],
  ['5/20 * * * *', at(2, 1, 45), true],
  ['5/20 * * * *', at(2, 1, 40), false],
  ['10-30/10 * * * *', at(2, 1, 30), true],
  ['10-30/10 * * * *', at(2, 1, 40), false],
  ['* */6 * * *', at(2, 18, 0), true],
  ['* */6 * * *', at(2, 19, 0), false],
  // ranges and lists
  ['0 9-17 * * *', at(2, 17, 0), true],
  ['0 9-17 * * *', at(2, 18, 0), false],
  ['1,3,5-7 * * * *', at(2, 0, 6), true],
  ['1,3,5-7 * * * *', at(2, 0, 4), false],
  // months and days of the week, by number or name; 7 is Sunday
  ['0 0 * jun-aug *', at(15, 0, 0, 7), true],
  ['0 0 * jun-aug *', at(15, 0, 0, 9), false],
  ['0 0 * * mon-fri', at(6, 0, 0), true],
  ['0 0 * * mon-fri', at(7, 0, 0), false],
  ['0 0 * * 7', at(8, 0, 0), true],
  ['0 0 * * 0', at(8, 0, 0), true],
  ['0 0 * * SUN', at(9, 0, 0), false],
  // both day fields restricted: day-of-month OR day-of-week
  ['0 0 1 * mon', at(1, 0, 0), true],
  ['0 0 1 * mon', at(9, 0, 0), true],
  ['0 0 1 * mon', at(10, 0, 0), false],
  // one restricted ("*" or "*/n" leaves it unrestricted): both must match
  ['0 0 1 * *', at(9, 0, 0), false],
  ['0 0 * * mon', at(10, 0, 0), false],
  ['0 0 */2 * mon', at(3, 0, 0), false],
  ['0 0 */2 * mon', at(9, 0, 0), true],
  // shorthands
  ['@hourly', at(2, 5, 0), true],
  ['@hourly', at(2, 5, 1), false],
  ['@daily', at(2, 0, 0), true],
  ['@daily', at(2, 1, 0), false],
  ['@weekly', at(8, 0, 0), true],
  ['@monthly', at(1, 0, 0), true],
  ['@yearly', at(1, 0, 0, 1), true],
  ['@yearly', at(1, 0, 0, 2), false],
];

for (const [schedule, when, expected] of TABLE) {
  test(`"${schedule}" ${expected ? 'matches' : 'does not match'} ${when.toString().slice(0, 21)}`, (t) => {
    t.is(matches(parseSchedule(schedule), when), expected);
  });
}

const BAD: [line: string, message: string][] = [
  ['60 * * * * true', 'minute: 60 is outside 0-59'],
  ['* 24 * * * true', 'hour: 24 is outside 0-23'],
  ['* * 0 * * true', 'day of month: 0 is outside 1-31'],
  ['* * * 13 * true', 'month: 13 is outside 1-12'],
  ['* * * * 8 true', 'day of week: 8 is outside 0-7'],
  ['* * * * funday true', 'day of week: "funday" is not a number or a name'],
  ['*/0 * * * * true', 'minute: step "0" is not a positive number'],
  ['30-10 * * * * true', 'minute: range "30-10" runs backwards'],
  ['* * * * *', 'expected 5 time fields and a command'],
  ['@fortnightly true', 'unknown shorthand "@fortnightly"'],
  ['@daily', '@daily: no command'],
];

for (const [line, message] of BAD) {
  test(`crontab line "${line}": error names the file, the line and what is wrong`, (t) => {
    const error = t.throws(() => parseCrontab(`# header\nSHELL=/bin/sh\n${line}\n`, '/etc/x/crontab'));
    t.true(error.message.startsWith(`/etc/x/crontab:3: ${message}`), error.message);
  });
}

test('a crontab: assignments, comments, entries with their lines, @reboot apart', (t) => {
  const crontab = parseCrontab('# c\nSHELL=/bin/bash\nPATH = "/usr/bin:/bin"\n\n  # indented comment\n*/5 * * * * echo a  b >> /tmp/x\n@reboot echo boot\n', 'crontab');
  t.deepEqual(crontab.environment, { SHELL: '/bin/bash', PATH: '/usr/bin:/bin' });
  t.deepEqual(crontab.entries.map((e) => [e.line, e.command, e.schedule === null]), [[6, 'echo a  b >> /tmp/x', false], [7, 'echo boot', true]]);
  t.deepEqual(dueEntries(crontab, at(2, 1, 5)).map((e) => e.line), [6]);
  t.deepEqual(dueEntries(crontab, at(2, 1, 6)), []);
});

test('render refuses a bad cron entry a plugin registers, naming the file, plugin and line', async (t) => {
  const sweeper = definePlugin({
    name: 'sweeper',
    setup(host) {
      host.addFile({ path: 'cron/sweep', content: '# nightly\n0 3 * 13 * /usr/local/bin/sweep\n' });
    },
  });
  const { pillar } = await loadPillar({ cwd: '/nonexistent', env: {}, code: [{ data_root: '/srv/registry/data', auth: { mode: 'htpasswd' } }] });
  const plugins = await setupPlugins([...builtinPlugins.map((plugin) => ({ plugin, from: 'built-in' })), { plugin: sweeper, from: 'test' }], pillar, []);
  const stack = freezeStack(pillar, plugins, { secrets: { users: { admin: 'a-password-1' }, redisPassword: 'redis-password-1', httpSecret: 'http-secret-1' }, authorizedKeys: [] });
  const error = t.throws(() => renderFiles(stack, plugins));
  t.is(error.message, 'render: plugin "cron": cron/sweep (plugin "sweeper"):2: month: 13 is outside 1-12');
});
