// Checks a dataset's files before training starts, so that a bad label fails in seconds rather
// than hours into a run. Pairing (every label has its image) was checked when the dataset was
// resolved; this reads every image header and decodes every label (sample_checks.checkItemFiles).
// Big datasets are checked on a fixed sample of items; the loader checks every sample it loads
// anyway, with the same errors.
import { AhsError, check } from '../errors.js';
import { Rng } from './rng.js';
import type { SegDataset } from './sample.js';
import { checkItemFiles } from './sample_checks.js';

/** Datasets up to this size are checked in full by default. */
export const FULL_CHECK_MAX_ITEMS = 5000;
/** Items checked in a dataset bigger than FULL_CHECK_MAX_ITEMS (unless full is asked for). */
export const SAMPLED_CHECK_ITEMS = 500;
const CONCURRENCY = 8;

export interface ValidateOptions {
  /** Check every item; default: only when there are at most FULL_CHECK_MAX_ITEMS. */
  full?: boolean;
  onProgress?: (checked: number, toCheck: number) => void;
}

export interface ValidationSummary {
  checked: number;
  total: number;
  full: boolean;
  /** One line for the log, saying what was checked. */
  description: string;
}

/**
 * A fixed sample of `k` distinct indices of [0, n), sorted: the first k draws of a Fisher-Yates
 * shuffle keyed by n, so repeated runs check the same items.
 */
export function sampleIndices(n: number, k: number): number[] {
  const rng = Rng.for(0x7a11d, n);
  const a = new Map<number, number>(); // sparse Fisher-Yates: only touched slots are stored
  const out: number[] = [];
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = i + rng.int(n - i);
    const vi = a.get(i) ?? i;
    const vj = a.get(j) ?? j;
    a.set(j, vi);
    out.push(vj);
  }
  return out.sort((x, y) => x - y);
}

/**
 * Throws the AHS_ERR_DATASET error of the first bad item (in dataset order among those checked):
 * unreadable or corrupt image header or label, label size unlike its image's, a label value that
 * is neither a class index nor the ignore label.
 */
export async function validateDataset(ds: SegDataset, opts: ValidateOptions = {}): Promise<ValidationSummary> {
  const total = ds.items.length;
  check(total > 0, 'AHS_ERR_DATASET', () => `dataset '${ds.name}' has no items`);
  const full = opts.full ?? total <= FULL_CHECK_MAX_ITEMS;
  const indices = full ? Array.from({ length: total }, (_, i) => i) : sampleIndices(total, SAMPLED_CHECK_ITEMS);
  const space = { numClasses: ds.classNames.length, ignoreLabel: ds.ignoreLabel };
  // Items start in order and a failure stops new starts; once the running ones settle, every item
  // before the failing one has been checked, so the error reported is the first bad item's.
  const failures = new Map<number, unknown>();
  let nextSlot = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (failures.size === 0 && nextSlot < indices.length) {
      const slot = nextSlot++;
      try {
        await checkItemFiles(ds.items[indices[slot]!]!, space);
      } catch (err) {
        failures.set(slot, err);
        return;
      }
      opts.onProgress?.(++done, indices.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, indices.length) }, worker));
  if (failures.size > 0) {
    const first = Math.min(...failures.keys());
    const err = failures.get(first);
    throw err instanceof AhsError ? err : new AhsError('AHS_ERR_DATASET', `checking '${ds.items[indices[first]!]!.imagePath}': ${(err as Error).message}`, { cause: err });
  }
  const description = full
    ? `checked all ${total} items of '${ds.name}'`
    : `checked a fixed sample of ${indices.length} of the ${total} items of '${ds.name}' ` +
      `(a dataset over ${FULL_CHECK_MAX_ITEMS} items; the loader checks every sample it loads)`;
  return { checked: indices.length, total, full, description };
}
