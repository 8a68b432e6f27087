// A user's class list (`--labels`, `--classes`, an API request) is checked once, where it comes
// in: every name a non-blank string, no name twice, not more names than the text tower can take
// in one go. Duplicates are an error, not a warning: two equal names get equal scores, so the
// second never wins a pixel and its share of the legend is silently zero.
import { AhsError, printable } from '../errors.js';

/** More classes than any benchmark (ADE-847) by two orders of magnitude. */
export const MAX_CLASSES = 100_000;

/** How two names compare for CLIP: its tokenizer lowercases and collapses white space. */
const canonical = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Names shown in messages: escaped, and shortened past 60 characters. */
export function showName(s: string): string {
  const p = printable(s);
  return `'${p.length > 60 ? `${p.slice(0, 57)}...` : p}'`;
}

/**
 * The trimmed class names, or an AHS_ERR_INVALID_ARGUMENT that names `source` (e.g. "--classes
 * labels.json") and the entry at fault (1-based, as a user counts).
 */
export function checkClassNames(names: readonly unknown[], source: string): string[] {
  if (names.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${source} names no class`);
  if (names.length > MAX_CLASSES) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${source} names ${names.length} classes; at most ${MAX_CLASSES} are accepted`);
  }
  const seen = new Map<string, number>();
  return names.map((n, i) => {
    if (typeof n !== 'string') {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${source}: entry ${i + 1} is ${n === null ? 'null' : typeof n}, not a class-name string`);
    }
    const name = n.trim();
    if (name.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${source}: entry ${i + 1} is blank; every class needs a name`);
    const key = canonical(name);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT',
        `${source}: ${showName(name)} (entry ${i + 1}) repeats ${showName(String(names[first]).trim())} (entry ${first + 1}); ` +
        'give each class once (equal names get equal scores, so the repeat would never win a pixel)');
    }
    seen.set(key, i);
    return name;
  });
}
