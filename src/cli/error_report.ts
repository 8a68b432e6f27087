// The one place that turns any error into what the user sees: an AhsError code, an exit code and
// one message line on stderr, never a stack trace (unless AHS_SEG_DEBUG=1).
//
//   exit 1  the input is at fault (status 4xx): fix the option, file, config or value named
//   exit 2  the environment is at fault (network, disk, memory: status 502, 503, 507)
//   exit 3  an internal failure (status 500): a bug or a libtorch failure; please report it
import { CommanderError } from 'commander';
import { AhsError, printable, type ErrorFault } from '../errors.js';
import { fsErrorToAhs, isNodeFsError } from '../io/fs_error.js';

export const EXIT_CODES: Readonly<Record<ErrorFault, number>> = Object.freeze({ user: 1, environment: 2, internal: 3 });

/** Any thrown value as an AhsError: fs errors name their path, a failed JS allocation is out of
 * memory, everything else unexpected is AHS_ERR_INTERNAL. */
export function toAhsError(e: unknown): AhsError {
  if (e instanceof AhsError) return e;
  if (e instanceof CommanderError) {
    return new AhsError('AHS_ERR_INVALID_ARGUMENT', `${e.message.replace(/^error: /, '')} (see --help)`, { cause: e });
  }
  if (isNodeFsError(e)) return fsErrorToAhs(e);
  if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Array buffer/i.test(e.message)) {
    return new AhsError('AHS_ERR_OUT_OF_MEMORY', `out of memory: ${e.message}; use fewer classes, smaller images or a smaller input size`, { cause: e });
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new AhsError('AHS_ERR_INTERNAL', `unexpected error ${msg} (a bug: rerun with AHS_SEG_DEBUG=1 for the stack trace and report it)`, { cause: e });
}

/** The line written to stderr; control characters from user values are escaped (a newline that
 * a message itself uses to list items is kept). */
export function errorLine(err: AhsError): string {
  const msg = err.message.split('\n').map(printable).join('\n');
  return `ahs-seg: error ${err.code}: ${msg}`;
}

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.AHS_SEG_DEBUG ?? '');
}

/** Writes the report and returns the exit code. */
export function reportError(e: unknown, stream: { write(s: string): unknown } = process.stderr, debug = debugEnabled()): number {
  const err = toAhsError(e);
  stream.write(errorLine(err) + '\n');
  if (debug) {
    for (let c: unknown = err; c instanceof Error; c = c.cause) stream.write(`${c.stack ?? String(c)}\n`);
  }
  return EXIT_CODES[err.fault];
}
