import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { ConfusionMatrix } from '../../../src/eval/confusion_matrix.js';

// Hand-computed bincount((N+1)*pred + gt) for N = 3, ignore 255 -> column 3.
//   gt:   0 0 0 0 1 1 1 255 255 0
//   pred: 0 0 0 1 1 1 2 0   2   2
const GT = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 255, 255, 0]);
const PRED = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 0, 2, 2]);
const EXPECTED: Array<[number, number, number]> = [
  [0, 0, 3],
  [1, 0, 1],
  [1, 1, 2],
  [2, 1, 1],
  [2, 0, 1],
  [0, 3, 1],
  [2, 3, 1],
];

function expectCells(m: ConfusionMatrix, cells: Array<[number, number, number]>): void {
  const want = new Float64Array(16);
  for (const [p, g, c] of cells) want[4 * p + g] = c;
  // Fails if rows/columns are swapped (pred must be the row) or ignore is not mapped to N.
  assert.deepEqual(Array.from(m.counts), Array.from(want));
}

describe('ConfusionMatrix.add', () => {
  it('counts pred as row, gt as column, ignore label in the last column', () => {
    const m = new ConfusionMatrix(3);
    m.add(PRED, GT, { ignoreLabel: 255 });
    expectCells(m, EXPECTED);
    assert.equal(m.total(), 10);
  });

  it('accepts Uint16Array predictions and 16-bit ground truth with ignore 65535', () => {
    const m = new ConfusionMatrix(3);
    const gt16 = Uint16Array.from(GT, (v) => (v === 255 ? 65535 : v));
    m.add(Uint16Array.from(PRED), gt16, { ignoreLabel: 65535 });
    expectCells(m, EXPECTED);
  });

  it('counts gt == N in the ignore column, as detectron2 does', () => {
    const m = new ConfusionMatrix(3);
    m.add(Int32Array.from([1]), Uint16Array.from([3]), { ignoreLabel: 65535 });
    // Would be an error or a miscount if gt == N were treated as out of range or as a class.
    assert.equal(m.get(1, 3), 1);
  });

  it('folds predictions >= foldPredFrom into that class (VOC-20b)', () => {
    const m = new ConfusionMatrix(3);
    // Vocabulary of 6, metric classes 0, 1 and 2 = "background".
    m.add(Int32Array.from([5, 3, 2, 0]), Uint8Array.from([2, 2, 0, 0]), { ignoreLabel: 255, predRange: 6, foldPredFrom: 2 });
    expectCells(m, [
      [2, 2, 2],
      [2, 0, 1],
      [0, 0, 1],
    ]);
  });

  it('names both lengths when pred and gt differ', () => {
    const m = new ConfusionMatrix(3);
    assert.throws(
      () => m.add(new Int32Array(4), new Uint8Array(5), { ignoreLabel: 255, key: 'img7' }),
      (e: unknown) =>
        e instanceof AhsError && e.code === 'AHS_ERR_SHAPE' && e.message === "ConfusionMatrix.add: pred has 4 pixels but gt has 5 (image 'img7')",
    );
  });

  it('rejects predictions outside [0, N) naming the value, and leaves the matrix unchanged', () => {
    const m = new ConfusionMatrix(3);
    assert.throws(
      () => m.add(Int32Array.from([0, 3]), Uint8Array.from([0, 0]), { ignoreLabel: 255 }),
      (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT' && e.message.includes('prediction 3 at pixel 1'),
    );
    assert.throws(() => m.add(Int32Array.from([-1]), Uint8Array.from([0]), { ignoreLabel: 255 }), /prediction -1/);
    // The valid first pixel must not have been counted.
    assert.equal(m.total(), 0);
  });

  it('rejects ground-truth values that are neither classes nor ignore', () => {
    const m = new ConfusionMatrix(3);
    assert.throws(
      () => m.add(Int32Array.from([0]), Uint8Array.from([7]), { ignoreLabel: 255 }),
      (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_DATASET' && e.message.includes('ground-truth label 7'),
    );
  });
});

describe('ConfusionMatrix merge and JSON', () => {
  it('merging two halves equals adding everything to one matrix', () => {
    const whole = new ConfusionMatrix(3);
    whole.add(PRED, GT, { ignoreLabel: 255 });
    const a = new ConfusionMatrix(3);
    const b = new ConfusionMatrix(3);
    a.add(PRED.subarray(0, 4), GT.subarray(0, 4), { ignoreLabel: 255 });
    b.add(PRED.subarray(4), GT.subarray(4), { ignoreLabel: 255 });
    a.merge(b);
    assert.deepEqual(Array.from(a.counts), Array.from(whole.counts));
    assert.throws(() => a.merge(new ConfusionMatrix(4)), /cannot merge a 4-class matrix into a 3-class one/);
  });

  it('round-trips through sparse JSON', () => {
    const m = new ConfusionMatrix(3);
    m.add(PRED, GT, { ignoreLabel: 255 });
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    assert.equal(json.cells.length, EXPECTED.length); // only non-zero cells are stored
    assert.deepEqual(Array.from(ConfusionMatrix.fromJSON(json).counts), Array.from(m.counts));
    assert.throws(
      () => ConfusionMatrix.fromJSON({ numClasses: 3, cells: [[16, 1]] }, 'state.json'),
      (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_FILE_FORMAT' && e.message.startsWith('state.json: bad cell [16,1]'),
    );
  });
});
