import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfusionMatrix } from '../../../src/eval/confusion_matrix.js';
import { computeSemSegMetrics, numpySum, toDetectron2Results } from '../../../src/eval/sem_seg_metrics.js';

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: got ${actual}, expected ${expected}`);
}

// Matrix built by hand (rows = pred, cols = gt, col 3 = ignore), N = 3:
//   pred\gt   0  1  2  ign
//   0         3  0  0  1
//   1         1  2  0  0
//   2         1  1  0  1
// tp = [3, 2, 0]; pos_gt = [5, 3, 0]; pos_pred = [3, 3, 2]; union = [5, 4, 2]
// Class 2 is predicted but absent from the ground truth.
function handMatrix(): ConfusionMatrix {
  const m = new ConfusionMatrix(3);
  const cells: Array<[number, number, number]> = [
    [0, 0, 3], [0, 3, 1], [1, 0, 1], [1, 1, 2], [2, 0, 1], [2, 1, 1], [2, 3, 1],
  ];
  for (const [p, g, c] of cells) m.counts[4 * p + g] = c;
  return m;
}

describe('computeSemSegMetrics (detectron2)', () => {
  const r = computeSemSegMetrics(handMatrix());

  it('per-class IoU/ACC, NaN for the class absent from the ground truth', () => {
    close(r.iou[0], 60, 'IoU 0'); // 3/5
    close(r.iou[1], 50, 'IoU 1'); // 2/4
    assert.ok(Number.isNaN(r.iou[2]), 'absent class has IoU NaN');
    close(r.acc[0], 60, 'ACC 0'); // 3/5
    close(r.acc[1], (100 * 2) / 3, 'ACC 1');
    assert.ok(Number.isNaN(r.acc[2]));
    // Ignored pixels must not enter pos_pred: class 0 has 3 (not 4) predicted pixels.
    assert.deepEqual(Array.from(r.posPred), [3, 3, 2]);
    assert.deepEqual(Array.from(r.posGt), [5, 3, 0]);
  });

  it('means exclude classes absent from the ground truth', () => {
    close(r.mIoU, 55, 'mIoU'); // (0.6 + 0.5) / 2 — a union>0 rule would give 36.67
    close(r.fwIoU, 56.25, 'fwIoU'); // 0.6 * 5/8 + 0.5 * 3/8
    close(r.mACC, (100 * (0.6 + 2 / 3)) / 2, 'mACC');
    close(r.pACC, 62.5, 'pACC'); // 5 / 8, ignore excluded
  });

  it('legacy convention counts predicted-but-absent classes as IoU 0 in mIoU', () => {
    const legacy = computeSemSegMetrics(handMatrix(), 'detectron2-legacy');
    close(legacy.mIoU, (100 * (0.6 + 0.5)) / 3, 'legacy mIoU');
    close(legacy.fwIoU, 56.25, 'legacy fwIoU');
    assert.ok(Number.isNaN(legacy.iou[2]));
  });

  it('a class absent from both gt and pred is excluded under both conventions', () => {
    const m = new ConfusionMatrix(2);
    m.counts[0] = 4; // pred 0, gt 0; class 1 never appears
    for (const conv of ['detectron2', 'detectron2-legacy'] as const) {
      const x = computeSemSegMetrics(m, conv);
      close(x.mIoU, 100, `${conv} mIoU`);
      assert.ok(Number.isNaN(x.iou[1]));
    }
  });

  it('an all-ignored matrix gives NaN means and fwIoU 0, as numpy does', () => {
    const m = new ConfusionMatrix(2);
    m.counts[2] = 7; // pred 0, gt ignored
    const x = computeSemSegMetrics(m);
    assert.ok(Number.isNaN(x.mIoU) && Number.isNaN(x.mACC) && Number.isNaN(x.pACC));
    assert.equal(x.fwIoU, 0); // sum over an empty selection
  });
});

describe('toDetectron2Results', () => {
  it('uses detectron2 key names and order', () => {
    const res = toDetectron2Results(computeSemSegMetrics(handMatrix()), ['a', 'b', 'c']).sem_seg;
    assert.deepEqual(Object.keys(res), ['mIoU', 'fwIoU', 'IoU-a', 'IoU-b', 'IoU-c', 'mACC', 'pACC', 'ACC-a', 'ACC-b', 'ACC-c']);
    close(res['IoU-b']!, 50, 'IoU-b');
    assert.throws(() => toDetectron2Results(computeSemSegMetrics(handMatrix()), ['a']), /1 class names for 3 classes/);
  });
});

describe('numpySum', () => {
  it('sums pairwise in blocks of 8 like numpy, not left to right', () => {
    // 9 values: numpy adds ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)) then a8.
    const a = [1e16, 1, 1, 1, 1, 1, 1, 1, 1];
    const pairwise = ((a[0]! + a[1]!) + (a[2]! + a[3]!)) + ((a[4]! + a[5]!) + (a[6]! + a[7]!)) + a[8]!;
    let sequential = 0;
    for (const v of a) sequential += v;
    assert.notEqual(pairwise, sequential); // the case distinguishes the two orders
    assert.equal(numpySum(a), pairwise);
  });

  it('splits long arrays at a multiple of 8 below n/2', () => {
    const a = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 1e15 : 0.1 * i));
    // n = 300 -> 144 + 156 (156 -> 72 + 84), each part <= 128 summed in 8 lanes.
    assert.equal(numpySum(a), numpySum(a, 0, 144) + (numpySum(a, 144, 72) + numpySum(a, 216, 84)));
    assert.equal(numpySum([]), 0);
  });
});
