// A multi-byte secret split across output chunks (issue 7 point 9): each child
// stream is decoded by its own incremental decoder before masking, so the
// secret is recognised, and masked, on stdout as on stderr, with --verbose; and
// a failed command's message (which zx decodes chunk by chunk) is masked too.
import test from 'ava';
import { masked } from '../lib/errors.ts';
import { Logger } from '../lib/logger.ts';
import { createShell } from '../lib/shell.ts';

const SECRET = 'ΩΩΩΩΩΩΩΩ-pw1-€😀';
const NOT_SECRET = 'ΔΔΔΔΔΔΔΔ-shown-€😀';

/** bash printing each hex-encoded part of its arguments in its own write, on stdout and stderr, 0.2 s apart. */
const SCRIPT = 'for part in "$@"; do printf "$(printf %s "$part" | sed "s/../\\\\\\\\x&/g")"; printf "$(printf %s "$part" | sed "s/../\\\\\\\\x&/g")" >&2; sleep 0.2; done; echo; echo >&2; exit "$EXIT"';

/** `text`'s bytes in three parts, cut inside a 2-byte character and inside the 4-byte emoji. */
function cutInsideCharacters(text: string): string[] {
  const bytes = Buffer.from(text);
  const cuts = [11, bytes.length - 2];
  return [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])].map((part) => part.toString('hex'));
}

function verboseShell() {
  let log = '';
  const logger = new Logger({ level: 'verbose', err: (s) => (log += s), out: (s) => (log += s) });
  logger.addSecret(SECRET);
  return { logger, $: createShell(logger), log: () => log };
}

test('text whose multi-byte characters are split between two writes is decoded whole on stdout and stderr; a secret so split is masked', async (t) => {
  const { $, log } = verboseShell();
  await $({ env: { ...process.env, EXIT: '0' } })`bash -c ${SCRIPT} sh ${cutInsideCharacters(NOT_SECRET)}`;
  await $({ env: { ...process.env, EXIT: '0' } })`bash -c ${SCRIPT} sh ${cutInsideCharacters(SECRET)}`;
  t.is(log().split('\n').filter((line) => line === NOT_SECRET).length, 2, log());
  t.false(log().includes('\uFFFD'), log());
  t.false(log().includes('ΩΩΩΩΩ'), log());
  t.is(log().match(/^\*\*\*$/gm)?.length, 2, log());
});

test('a failed command whose stderr holds a split multi-byte secret fails with the secret masked', async (t) => {
  const { logger, $, log } = verboseShell();
  const error = await t.throwsAsync(masked(logger, async () => {
    await $({ env: { ...process.env, EXIT: '3' } })`bash -c ${SCRIPT} sh ${cutInsideCharacters(SECRET)}`;
  }));
  t.regex(error!.message, /exit code: 3/);
  for (const text of [error!.message, error!.stack ?? '', log()]) {
    t.false(text.includes('ΩΩΩΩΩ'), text);
    t.false(text.includes('-pw1-'), text);
  }
});
