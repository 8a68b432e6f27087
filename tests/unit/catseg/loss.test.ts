// CAT-Seg's BCE (ignore pixels -> all-zero targets, mean over every element) and our `exclude`
// deviation, against values worked out by hand in JS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catSegLoss, oneHotTargets } from '../../../src/models/catseg/index.js';
import { tensor, tidy } from '../../../src/tensor/index.js';

/** BCE with logits for one element, computed stably. */
const bce = (x: number, y: number) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));

describe('catSegLoss', () => {
  // logits (1, T=2, 2, 2) at the label size, so the bilinear resize is the identity.
  const logit = [[[0.5, -1.0], [2.0, 0.0]], [[-0.3, 1.5], [-2.0, 0.7]]];
  const labels = [[0, 255], [1, 0]];
  const target = (c: number, h: number, w: number) => (labels[h]![w] === c ? 1 : 0);

  it("zero_target: ignore pixels count with all-zero targets, mean over B*T*H*W", () => {
    let sum = 0;
    for (let c = 0; c < 2; c++) for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) sum += bce(logit[c]![h]![w]!, target(c, h, w));
    tidy(() => {
      const loss = catSegLoss(tensor([logit]), tensor([labels], { dtype: 'uint8' }));
      assert.ok(Math.abs(loss.item() - sum / 8) < 1e-6, `${loss.item()} vs ${sum / 8}`);
    });
  });

  it('exclude: ignore pixels leave the mean (valid pixels * T elements)', () => {
    let sum = 0;
    for (let c = 0; c < 2; c++) for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) if (labels[h]![w] !== 255) sum += bce(logit[c]![h]![w]!, target(c, h, w));
    tidy(() => {
      const loss = catSegLoss(tensor([logit]), tensor([labels], { dtype: 'int64' }), { mode: 'exclude' });
      assert.ok(Math.abs(loss.item() - sum / 6) < 1e-6, `${loss.item()} vs ${sum / 6}`);
      const none = catSegLoss(tensor([logit]), tensor([[[255, 255], [255, 255]]], { dtype: 'int64' }), { mode: 'exclude' });
      assert.equal(none.item(), 0, 'no valid pixel gives 0');
    });
  });

  it('resizes the logits to the label size with bilinear, align_corners false', () => {
    tidy(() => {
      // A constant map stays constant under any bilinear resize.
      const loss = catSegLoss(tensor([[[[1.25]]]]), tensor([[[0, 0, 0], [0, 255, 0]]], { dtype: 'uint8' }));
      assert.ok(Math.abs(loss.item() - (5 * bce(1.25, 1) + bce(1.25, 0)) / 6) < 1e-6);
    });
  });

  it('builds one-hot targets with ignore -> zeros, and rejects labels outside [0, T)', () => {
    tidy(() => {
      const t = oneHotTargets(tensor([[[2, 255, 0]]], { dtype: 'int64' }), 3); // (1, 3, 1, 3)
      assert.deepEqual(t.toArray(), [0, 0, 1, 0, 0, 0, 1, 0, 0]);
      // Class 255 is a real class when T > 255: it must still be ignore.
      const big = oneHotTargets(tensor([[[255, 3]]], { dtype: 'int64' }), 300);
      assert.equal(big.sum().item(), 1);
      assert.throws(() => catSegLoss(tensor([logit]), tensor([[[0, 2], [1, 0]]], { dtype: 'int64' })), /labels must be in \[0, 2\) or 255/);
    });
  });
});
