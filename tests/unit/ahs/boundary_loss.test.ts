// MH-FPN's boundary losses: the boundary-weighted BCE of spec 5.2 (weighted_bce) against hand-made
// maps and JS sums, and the original AHS-Seg multi-scale Sobel loss (sobel_ahs) against a JS
// re-implementation of the Python code; both finite and falling when optimised alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryLoss, boundaryLossPart, boundaryMap } from '../../../src/models/ahs/boundary_loss.js';
import { sobelBoundaryLoss } from '../../../src/models/ahs/sobel_boundary_loss.js';
import { catSegLoss } from '../../../src/models/catseg/loss.js';
import { AdamW } from '../../../src/optim/index.js';
import { manualSeed, randn, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { assertClose, jsRandom } from '../../helpers/assert_close.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const I = 255;
const labelsOf = (rows: number[][][]): Tensor => tensor(rows, { dtype: 'int64' });
const bce = (x: number, y: number) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));

/** Runs `steps` AdamW steps on a leaf of logits minimising `loss`; returns [first, last] loss values. */
function optimise(logits: Tensor, loss: (x: Tensor) => Tensor, steps = 30, lr = 0.05): [number, number] {
  const opt = new AdamW([logits], { lr, weightDecay: 0 });
  const values: number[] = [];
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      opt.zeroGrad();
      const l = loss(logits);
      values.push(l.item());
      l.backward();
      const g = logits.grad!.toArray();
      assert.ok(g.every(Number.isFinite), `step ${s}: non-finite gradient`);
      opt.step();
    });
  }
  return [values[0]!, values[values.length - 1]!];
}

describe('boundaryMap', () => {
  it('marks both sides of a vertical edge and nothing else (else the 3x3 neighbourhood is wrong)', () => {
    tidy(() => {
      const b = boundaryMap(labelsOf([[[0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1]]]));
      assert.deepEqual(b.toArray(), [0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0]);
    });
  });

  it('counts diagonal neighbours: a one-pixel island marks its whole 3x3 block', () => {
    tidy(() => {
      const b = boundaryMap(labelsOf([[[0, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]));
      assert.deepEqual(b.toArray(), [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
    });
  });

  it('makes no boundary at or around ignore pixels, nor at the image border (else ignore would count as a class)', () => {
    tidy(() => {
      const ignoreBlock = boundaryMap(labelsOf([[[0, 0, 0, 0], [0, I, I, 0], [0, 0, 0, 0]]]));
      assert.deepEqual(ignoreBlock.toArray(), new Array(12).fill(0));
      // An ignore column between two classes separates them: no valid neighbour differs.
      const separated = boundaryMap(labelsOf([[[0, I, 1], [0, I, 1]]]));
      assert.deepEqual(separated.toArray(), [0, 0, 0, 0, 0, 0]);
      // A different ignore value: 255 is then a class, 9 is ignored.
      assert.deepEqual(boundaryMap(labelsOf([[[0, 9, 255]]]), 9).toArray(), [0, 0, 0]);
      assert.deepEqual(boundaryMap(labelsOf([[[0, 255]]]), 9).toArray(), [1, 1]);
    });
  });

  it('is all zeros on a map of one class, and on an all-ignore map', () => {
    tidy(() => {
      assert.ok(boundaryMap(labelsOf([[[3, 3, 3], [3, 3, 3]]])).toArray().every((v) => v === 0));
      assert.ok(boundaryMap(labelsOf([[[I, I], [I, I]]])).toArray().every((v) => v === 0));
    });
  });
});

describe('boundaryLoss (weighted_bce)', () => {
  // logits (1, T=3, 3, 4) at the label size, so the bilinear resize is the identity.
  const T = 3;
  const labels = [[[0, 0, 1, 1], [0, 0, 1, I], [2, 2, 2, I]]];
  const logitVals = jsRandom(T * 12, 21, -2, 2);

  it('is the sum of b(x) BCE(x) over (B, T, H, W) divided by B T H W, with CAT-Seg\'s targets', () => {
    tidy(() => {
      const b = boundaryMap(labelsOf(labels)).toArray();
      let sum = 0;
      for (let c = 0; c < T; c++) for (let p = 0; p < 12; p++) {
        const lab = labels[0]![Math.floor(p / 4)]![p % 4]!;
        sum += b[p]! * bce(logitVals[c * 12 + p]!, lab === c ? 1 : 0);
      }
      const loss = boundaryLoss(tensor(logitVals, { shape: [1, T, 3, 4] }), labelsOf(labels));
      assertClose(loss, sum / (T * 12), 1e-6, 'boundary-weighted BCE');
      assert.ok(sum > 0, 'the case must have boundary pixels');
    });
  });

  it("gives spec 5.2's total: loss_sem_seg + w loss_boundary = mean((1 + w b) BCE) (else BOUNDARY_LOSS_WEIGHT is not w_b)", () => {
    tidy(() => {
      const w = 0.1;
      const logits = tensor(logitVals, { shape: [1, T, 3, 4] });
      const b = boundaryMap(labelsOf(labels)).toArray();
      let sum = 0;
      for (let c = 0; c < T; c++) for (let p = 0; p < 12; p++) {
        const lab = labels[0]![Math.floor(p / 4)]![p % 4]!;
        sum += (1 + w * b[p]!) * bce(logitVals[c * 12 + p]!, lab === c ? 1 : 0);
      }
      const total = catSegLoss(logits, labelsOf(labels)).add(boundaryLoss(logits, labelsOf(labels)).mul(w));
      assertClose(total, sum / (T * 12), 1e-6);
    });
  });

  it('sums over class chunks to the whole loss, with logits upsampled to the label size (else chunked checkpointing changes it)', () => {
    manualSeed(3);
    tidy(() => {
      const lab = labelsOf([[[0, 0, 1, 1, 3, 3], [0, 4, 1, 1, 3, 3], [2, 2, 2, I, I, 3], [2, 2, 4, 4, 4, 3]]]).repeat([2, 1, 1]);
      const logits = randn([2, 5, 2, 3]);
      const whole = boundaryLoss(logits, lab);
      const b = boundaryMap(lab);
      const parts = boundaryLossPart(logits.narrow(1, 0, 2), lab, { classStart: 0, numClasses: 5 })
        .add(boundaryLossPart(logits.narrow(1, 2, 3), lab, { classStart: 2, numClasses: 5, boundary: b }));
      assertClose(parts, whole.item(), 1e-6);
      assert.ok(whole.item() > 0);
      assert.throws(() => boundaryLossPart(logits.narrow(1, 2, 3), lab, { classStart: 3, numClasses: 5 }),
        isAhsError('AHS_ERR_INVALID_ARGUMENT', 'boundaryLossPart: classes [3, 6) are not within the 5 classes'));
      assert.throws(() => boundaryLossPart(logits, lab, { classStart: 0, numClasses: 5, boundary: b.narrow(1, 0, 2) }),
        isAhsError('AHS_ERR_SHAPE', 'boundaryLossPart: boundary must be (2, 4, 6) like the labels, got [2,2,6]'));
    });
  });

  it('is exactly 0 on a label map of one class and positive once there is an edge', () => {
    manualSeed(4);
    tidy(() => {
      const logits = randn([1, 3, 4, 4]);
      assert.equal(boundaryLoss(logits, labelsOf([[[1, 1, 1, 1], [1, 1, I, I], [1, 1, 1, 1], [1, 1, 1, 1]]])).item(), 0);
      assert.ok(boundaryLoss(logits, labelsOf([[[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]])).item() > 0);
    });
  });

  it('falls when optimised alone with AdamW for 30 steps', () => {
    manualSeed(5);
    const logits = randn([1, 3, 4, 4]).requiresGrad_(true);
    const lab = labelsOf([[[0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 0, 2, 2, 2, 2],
      [0, 0, 0, 0, 2, 2, 2, 2], [0, 0, 0, I, I, 2, 2, 2], [0, 0, 0, I, I, 2, 2, 2], [0, 0, 0, 0, 2, 2, 2, 2]]]);
    const [first, last] = optimise(logits, (x) => boundaryLoss(x, lab));
    assert.ok(last < 0.7 * first, `loss ${first} -> ${last} must fall`);
  });
});

describe('sobelBoundaryLoss (sobel_ahs)', () => {
  const SX = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]];
  const SY = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]];
  /** Sobel magnitude with zero padding of one H x W plane, as compute_edges. */
  const sobel = (x: number[], H: number, W: number): number[] => x.map((_, p) => {
    const [i, j] = [Math.floor(p / W), p % W];
    let gx = 0, gy = 0;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const [y, z] = [i + a - 1, j + b - 1];
      if (y < 0 || y >= H || z < 0 || z >= W) continue;
      gx += SX[a]![b]! * x[y * W + z]!;
      gy += SY[a]![b]! * x[y * W + z]!;
    }
    return Math.sqrt(gx * gx + gy * gy + 1e-8);
  });
  /** BoundaryAwareLoss.forward for B = 1: logit planes (T of H x W) and a label plane at the same size. */
  const boundaryAware = (planes: number[][], lab: number[], H: number, W: number): number => {
    const pe = planes.map((pl) => sobel(pl.map((v) => 1 / (1 + Math.exp(-v))), H, W));
    const te = sobel(lab, H, W);
    const pm = Math.max(...pe.flat()) + 1e-8, tm = Math.max(...te) + 1e-8;
    let s = 0;
    for (const e of pe) e.forEach((v, p) => {
      const [q, y] = [v / pm, te[p]! / tm];
      s -= y * Math.max(Math.log(q), -100) + (1 - y) * Math.max(Math.log(1 - q), -100);
    });
    return s / (pe.length * H * W);
  };
  /** Exact 2x downsampling: bilinear (align_corners false) = 2x2 mean, nearest = top-left pixel. */
  const half = (x: number[], H: number, W: number, mode: 'mean' | 'nearest'): number[] => {
    const out: number[] = [];
    for (let i = 0; i < H / 2; i++) for (let j = 0; j < W / 2; j++) {
      const q = (a: number, b: number) => x[(2 * i + a) * W + 2 * j + b]!;
      out.push(mode === 'nearest' ? q(0, 0) : (q(0, 0) + q(0, 1) + q(1, 0) + q(1, 1)) / 4);
    }
    return out;
  };

  it('matches a JS re-implementation of MultiScaleBoundaryLoss([1, 0.5], [1, 0.5]), raw 255 and zero padding included', () => {
    const [T, H, W] = [2, 6, 6];
    const lab = [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, I, I, 0, 0, 0, 1, I, I, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1];
    const vals = jsRandom(T * H * W, 31, -3, 3);
    const planes = [vals.slice(0, H * W), vals.slice(H * W)];
    const full = boundaryAware(planes, lab, H, W);
    const coarse = boundaryAware(planes.map((p) => half(p, H, W, 'mean')), half(lab, H, W, 'nearest'), H / 2, W / 2);
    tidy(() => {
      // float64 logits keep the computation in float64, where the JS sums agree to rounding.
      const loss = sobelBoundaryLoss(tensor(vals, { dtype: 'float64', shape: [1, T, H, W] }), tensor(lab, { dtype: 'int64', shape: [1, H, W] }));
      assertClose(loss, (full + 0.5 * coarse) / 1.5, 1e-9, 'AHS multi-scale Sobel loss');
    });
  });

  it('is finite, upsamples low-resolution logits, and is not zero on a one-class map (the original\'s ill-posedness: border edges)', () => {
    manualSeed(6);
    tidy(() => {
      const logits = randn([2, 4, 3, 3]);
      const lab = labelsOf([[[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 3, I, I, 2], [3, 3, 3, 3, 2, 2]]]).repeat([2, 1, 1]);
      const l = sobelBoundaryLoss(logits, lab).item();
      assert.ok(Number.isFinite(l) && l > 0, `loss ${l}`);
      const flat = sobelBoundaryLoss(logits, labelsOf([[[2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2]]]).repeat([2, 1, 1])).item();
      assert.ok(flat > 0, 'zero padding makes border edges of any non-zero class, so the loss is not zero without a boundary');
      assert.throws(() => sobelBoundaryLoss(logits, lab.maskedFill(lab.eq(0), 4)), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'sobelBoundaryLoss: labels must be in [0, 4) or 255 (ignore), found values in [0, 4]'));
    });
  });

  it('falls when optimised alone with AdamW for 30 steps, with finite gradients', () => {
    manualSeed(7);
    const logits = randn([1, 3, 4, 4]).requiresGrad_(true);
    const lab = labelsOf([[[0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 0, 2, 2, 2, 2],
      [0, 0, 0, 0, 2, 2, 2, 2], [0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 0, 0, 2, 2, 2, 2]]]);
    const [first, last] = optimise(logits, (x) => sobelBoundaryLoss(x, lab));
    assert.ok(last < 0.8 * first, `loss ${first} -> ${last} must fall`);
  });
});
