import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { SemSegEvaluator } from '../../../src/eval/sem_seg_evaluator.js';

function close(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: got ${actual}, expected ${expected}`);
}

const VOC20B: string[] = JSON.parse(readFileSync(new URL('../../../assets/classes/voc20b.json', import.meta.url), 'utf8'));

describe('SemSegEvaluator (standard)', () => {
  it('accumulates images and reports detectron2 results', () => {
    const ev = new SemSegEvaluator({ classNames: ['a', 'b', 'c'], ignoreLabel: 255 });
    ev.reset();
    // Same pixels as the hand matrix in sem_seg_metrics.test.ts, split over two images.
    ev.process(Int32Array.from([0, 0, 0, 1, 1]), Uint8Array.from([0, 0, 0, 0, 1]), 'img1');
    ev.process(Int32Array.from([1, 2, 0, 2, 2]), Uint8Array.from([1, 1, 255, 255, 0]), 'img2');
    const res = ev.evaluate().sem_seg;
    close(res['mIoU'], 55, 'mIoU');
    close(res['IoU-a'], 60, 'IoU-a');
    assert.ok(Number.isNaN(res['IoU-c']!));
    close(res['pACC'], 62.5, 'pACC');
    assert.equal(ev.numImages, 2);
    ev.reset();
    assert.equal(ev.numImages, 0);
    assert.equal(ev.confusionMatrix.total(), 0); // reset must clear counts, not only the image count
    assert.equal(ev.has('img1'), false);
  });

  it('refuses to count the same image twice', () => {
    const ev = new SemSegEvaluator({ classNames: ['a', 'b'], ignoreLabel: 255 });
    ev.process(Int32Array.from([0]), Uint8Array.from([0]), 'x');
    assert.throws(
      () => ev.process(Int32Array.from([0]), Uint8Array.from([0]), 'x'),
      (e: unknown) => e instanceof AhsError && e.message === "SemSegEvaluator.process: image 'x' was already processed",
    );
  });

  it('rejects an ignore label that is a class index', () => {
    assert.throws(
      () => new SemSegEvaluator({ classNames: ['a', 'b', 'c'], ignoreLabel: 2 }),
      /ignoreLabel 2 must be an integer >= the number of classes \(3\)/,
    );
  });

  it('round-trips its state and refuses a state with other classes', () => {
    const ev = new SemSegEvaluator({ classNames: ['a', 'b', 'c'], ignoreLabel: 255 });
    ev.process(Int32Array.from([0, 1, 2, 2]), Uint8Array.from([0, 1, 1, 255]), 'k1');
    const state = JSON.parse(JSON.stringify(ev.toJSON()));
    const back = SemSegEvaluator.fromJSON(state);
    assert.deepEqual(back.evaluate(), ev.evaluate());
    assert.equal(back.has('k1'), true);
    assert.equal(back.numImages, 1);
    const other = new SemSegEvaluator({ classNames: ['a', 'B', 'c'], ignoreLabel: 255 });
    assert.throws(() => other.loadState(state, 'run.json'), /run.json: saved evaluator does not match this one \(class 1 'b' vs 'B'\)/);
    assert.throws(() => SemSegEvaluator.fromJSON({ format: 'x' }, 'f.json'), /f.json: not a SemSegEvaluator state/);
  });

  it('merges shards', () => {
    const a = new SemSegEvaluator({ classNames: ['a', 'b'], ignoreLabel: 255 });
    const b = new SemSegEvaluator({ classNames: ['a', 'b'], ignoreLabel: 255 });
    a.process(Int32Array.from([0, 1]), Uint8Array.from([0, 0]), 'x');
    b.process(Int32Array.from([1, 1]), Uint8Array.from([1, 1]), 'y');
    a.merge(b);
    assert.equal(a.numImages, 2);
    assert.equal(a.confusionMatrix.get(1, 1), 2);
    assert.throws(() => a.merge(b), /image 'y' is in both evaluators/);
  });
});

describe('SemSegEvaluator (voc20b)', () => {
  it('folds background concepts into class 20 and scores background as a class', () => {
    assert.equal(VOC20B.length, 59);
    const ev = new SemSegEvaluator({ classNames: VOC20B, ignoreLabel: 255, variant: 'voc20b' });
    assert.equal(ev.evalClassNames.length, 21);
    assert.equal(ev.evalClassNames[20], 'background');
    // gt 20 = background (annotations_detectron2_bg), 255 = ignore.
    //   pred:   35  20  0  40  58  5  3   -> folded: 20 20 0 20 20 5 3
    //   gt:     20  20  0   0 255  5 20
    // tp: c0=1 c5=1 c20=2; pos_gt: c0=2 c5=1 c20=3; pos_pred (non-ignored): c0=1 c3=1 c5=1 c20=3
    ev.process(Int32Array.from([35, 20, 0, 40, 58, 5, 3]), Uint8Array.from([20, 20, 0, 0, 255, 5, 20]), 'img');
    const res = ev.evaluate().sem_seg;
    close(res['IoU-aeroplane'], 50, 'IoU class 0'); // 1 / (2 + 1 - 1)
    close(res['IoU-bus'], 100, 'IoU class 5');
    close(res['IoU-background'], 50, 'IoU background'); // 2 / (3 + 3 - 2)
    close(res['mIoU'], 100 * (0.5 + 1 + 0.5) / 3, 'mIoU'); // class 3 (cat) predicted but absent
    close(res['mACC'], 100 * (0.5 + 1 + 2 / 3) / 3, 'mACC');
    close(res['pACC'], 100 * 4 / 6, 'pACC');
    assert.ok(!('IoU-bag' in res), 'background concepts are not reported as classes');
  });

  it('rejects predictions beyond the vocabulary', () => {
    const ev = new SemSegEvaluator({ classNames: VOC20B, ignoreLabel: 255, variant: 'voc20b' });
    assert.throws(() => ev.process(Int32Array.from([59]), Uint8Array.from([0])), /prediction 59 at pixel 0 is outside \[0, 59\)/);
  });
});
