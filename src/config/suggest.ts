// "Did you mean" for unknown config keys. yacs only says the key is missing; most such keys are a
// typo (`MAX_ITERS`) or a right name under the wrong section (`MODEL.NUM_LAYERS`), so we compare
// both the full dotted key and its last segment against every valid key.

/** Edit distance (insert, delete, substitute; each costs 1). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const lastSegment = (key: string): string => key.slice(key.lastIndexOf('.') + 1);
// Allow roughly one edit per three characters, and at least one (two for full keys).
const closeEnough = (dist: number, len: number, min: number): boolean => dist <= Math.max(min, Math.floor(len / 3));

/**
 * The candidate nearest to `key`, or undefined when none is close. Case is ignored. Ranked by the
 * smaller of the full-key and last-segment distances, ties broken by the full-key distance.
 */
export function nearestKey(key: string, candidates: Iterable<string>): string | undefined {
  const k = key.toUpperCase();
  const kLast = lastSegment(k);
  let best: string | undefined;
  let bestScore = Infinity;
  let bestFull = Infinity;
  for (const cand of candidates) {
    const c = cand.toUpperCase();
    const dFull = levenshtein(k, c);
    const dLast = levenshtein(kLast, lastSegment(c));
    if (!closeEnough(dFull, k.length, 2) && !closeEnough(dLast, kLast.length, 1)) continue;
    const score = Math.min(dFull, dLast);
    if (score < bestScore || (score === bestScore && dFull < bestFull)) {
      best = cand;
      bestScore = score;
      bestFull = dFull;
    }
  }
  return best;
}
