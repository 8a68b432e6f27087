// Parsers for option values, run by commander while it reads the command line: a value out of
// its range is refused there, naming the option and the accepted range, before any work starts.
import { AhsError, printable } from '../errors.js';

export interface IntRange {
  min: number;
  max: number;
  /** What the value means, appended to the error (e.g. "images per benchmark"). */
  what?: string;
}

const span = (r: IntRange): string => (r.max === Number.MAX_SAFE_INTEGER ? `>= ${r.min}` : `from ${r.min} to ${r.max}`);

/** `--opt <n>`: a decimal integer in [min, max] ("abc", "1.5", "-5", "Infinity" are refused). */
export function intArg(flag: string, range: IntRange): (value: string) => number {
  return (value: string): number => {
    const v = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(v) || v < range.min || v > range.max) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT',
        `${flag} must be an integer ${span(range)}${range.what ? ` (${range.what})` : ''}, got '${printable(value)}'`);
    }
    return v;
  };
}

/** `--opt <name>`: one of `choices`. */
export function choiceArg<const C extends readonly string[]>(flag: string, choices: C): (value: string) => C[number] {
  return (value: string): C[number] => {
    if (!choices.includes(value)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${flag} must be one of ${choices.join(', ')}, got '${printable(value)}'`);
    }
    return value;
  };
}

/** Numeric ranges of the CLI options, in one place (docs/errors.md quotes them). */
export const OPTION_RANGES = {
  /** CLIP's input short side: one 16-px patch at least; beyond 2048 the attention needs tens of GB. */
  shortSide: { min: 16, max: 2048, what: 'pixels' },
  limit: { min: 1, max: Number.MAX_SAFE_INTEGER, what: 'images per benchmark' },
  visualize: { min: 1, max: 100_000, what: 'side-by-side images' },
  plotWidth: { min: 200, max: 16_384, what: 'pixels' },
  jobs: { min: 1, max: 256, what: 'images converted at once' },
  processes: { min: 1, max: 1024 },
  machineRank: { min: 0, max: 1023 },
} as const satisfies Record<string, IntRange>;
