// Which stream positions make up each batch: detectron2's AspectRatioGroupedDataset. Mapped
// samples arrive in stream order; each goes to bucket 0 when its image is wider than high, else to
// bucket 1, and a bucket that reaches the batch size is emitted (in arrival order) and emptied.
// Without grouping there is one bucket: batches are consecutive positions.
//
// As in detectron2, the aspect is the ORIGINAL image's (the dataset dict's width/height, which
// check_image_size fills from the decoded image), not the mapped sample's: after CAT-Seg's square
// crop every mapped sample is 384x384 and would land in one bucket.
//
// The planner's whole state is small JSON: the next position to take and the positions waiting in
// each bucket. A planner restored from it emits exactly the batches the original would have, given
// the same samples for the waiting positions again (the loader re-maps them; the mapper is keyed by
// stream position, so it reproduces them).
import { check } from '../errors.js';

export interface PlannerState {
  batchSize: number;
  grouping: boolean;
  /** Next stream position to push. */
  next: number;
  /** Positions waiting in each bucket, in arrival order (two buckets with grouping, else one). */
  buckets: number[][];
}

/** detectron2's bucket id: 0 for landscape (width > height), 1 for portrait and square. */
export function aspectBucket(width: number, height: number): 0 | 1 {
  return width > height ? 0 : 1;
}

function checkState(s: PlannerState, batchSize: number, grouping: boolean): void {
  const bad = (what: string): string => `batch planner state ${JSON.stringify(s)}: ${what}`;
  check(s !== null && typeof s === 'object', 'AHS_ERR_INVALID_ARGUMENT', () => bad('not an object'));
  check(s.batchSize === batchSize, 'AHS_ERR_INVALID_ARGUMENT', () => bad(`saved with batch size ${s.batchSize}, resumed with ${batchSize}`));
  check(s.grouping === grouping, 'AHS_ERR_INVALID_ARGUMENT', () => bad(`saved with aspect-ratio grouping ${s.grouping ? 'on' : 'off'}, resumed with it ${grouping ? 'on' : 'off'}`));
  check(Number.isSafeInteger(s.next) && s.next >= 0, 'AHS_ERR_INVALID_ARGUMENT', () => bad('"next" must be a non-negative integer'));
  check(Array.isArray(s.buckets) && s.buckets.length === (grouping ? 2 : 1), 'AHS_ERR_INVALID_ARGUMENT', () => bad(`"buckets" must be ${grouping ? 2 : 1} arrays`));
  const all = s.buckets.flat();
  check(
    s.buckets.every((b) => Array.isArray(b) && b.length < batchSize) &&
      all.every((p) => Number.isSafeInteger(p) && p >= 0 && p < s.next) &&
      new Set(all).size === all.length,
    'AHS_ERR_INVALID_ARGUMENT',
    () => bad(`each bucket must hold fewer than ${batchSize} distinct positions below "next"`),
  );
}

export class BatchPlanner {
  readonly batchSize: number;
  readonly grouping: boolean;
  #next: number;
  #buckets: number[][];

  constructor(opts: { batchSize: number; grouping: boolean }, state?: PlannerState) {
    const { batchSize, grouping } = opts;
    check(Number.isInteger(batchSize) && batchSize >= 1, 'AHS_ERR_INVALID_ARGUMENT', () => `batch size must be a positive integer, got ${batchSize}`);
    this.batchSize = batchSize;
    this.grouping = grouping;
    if (state) {
      checkState(state, batchSize, grouping);
      this.#next = state.next;
      this.#buckets = state.buckets.map((b) => [...b]);
    } else {
      this.#next = 0;
      this.#buckets = grouping ? [[], []] : [[]];
    }
  }

  /** The stream position push() takes next. */
  get next(): number {
    return this.#next;
  }

  /** Positions already taken and waiting for their bucket to fill, in increasing order. */
  pending(): number[] {
    return this.#buckets.flat().sort((a, b) => a - b);
  }

  /**
   * Takes the sample at stream position `position` (must be `next`) with its original image size;
   * returns the positions of the batch it completes, if any.
   */
  push(position: number, width: number, height: number): number[] | undefined {
    check(position === this.#next, 'AHS_ERR_INVALID_ARGUMENT', () => `batch planner: expected stream position ${this.#next}, got ${position}`);
    this.#next++;
    const bucket = this.#buckets[this.grouping ? aspectBucket(width, height) : 0]!;
    bucket.push(position);
    if (bucket.length < this.batchSize) return undefined;
    return bucket.splice(0, bucket.length);
  }

  state(): PlannerState {
    return { batchSize: this.batchSize, grouping: this.grouping, next: this.#next, buckets: this.#buckets.map((b) => [...b]) };
  }
}
