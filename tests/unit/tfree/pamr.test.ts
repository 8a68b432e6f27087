// PAMR against a plain-loop re-statement of visinf/1-stage-wseg's pamr.py (float64 in JS), on a
// small random guide and scores, with dilations other than NACLIP's so that replicate padding at
// every border is exercised; plus the wrapper that refines any segmenter's scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pamr } from '../../../src/models/tfree/pamr.js';
import { PamrRefined } from '../../../src/models/tfree/pamr_refined.js';
import { liveTensorCount, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { assertClose } from '../../helpers/assert_close.js';
import { isAhsError } from '../../helpers/ahs_error.js';

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** pamr.py's PAMR.forward for guide [K][H][W] and mask [C][H][W], written out with loops. */
function naivePamr(guide: number[][][], mask: number[][][], steps: number, dilations: number[]): number[][][] {
  const K = guide.length, H = guide[0]!.length, W = guide[0]![0]!.length;
  const at = (m: number[][], y: number, x: number) => m[Math.min(Math.max(y, 0), H - 1)]![Math.min(Math.max(x, 0), W - 1)]!;
  const nb = (d: number) => [[-d, -d], [-d, 0], [-d, d], [0, -d], [0, d], [d, -d], [d, 0], [d, d]];
  const aff: number[][][] = []; // [y][x][P]
  for (let y = 0; y < H; y++) {
    aff.push([]);
    for (let x = 0; x < W; x++) {
      const logits = new Array<number>(8 * dilations.length).fill(0);
      for (let k = 0; k < K; k++) {
        const win: number[] = [];
        for (const d of dilations) for (let dy = -d; dy <= d; dy += d) for (let dx = -d; dx <= d; dx += d) win.push(at(guide[k]!, y + dy, x + dx));
        const mean = win.reduce((a, b) => a + b, 0) / win.length;
        const sigma = Math.sqrt(win.reduce((a, b) => a + (b - mean) ** 2, 0) / (win.length - 1));
        let p = 0;
        for (const d of dilations) for (const [dy, dx] of nb(d)) logits[p++]! += -Math.abs(guide[k]![y]![x]! - at(guide[k]!, y + dy!, x + dx!)) / (1e-8 + 0.1 * sigma) / K;
      }
      const mx = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - mx));
      const z = e.reduce((a, b) => a + b, 0);
      aff[y]!.push(e.map((v) => v / z));
    }
  }
  let m = mask;
  for (let s = 0; s < steps; s++) {
    m = m.map((plane) => plane.map((row, y) => row.map((_, x) => {
      let acc = 0, p = 0;
      for (const d of dilations) for (const [dy, dx] of nb(d)) acc += aff[y]![x]![p++]! * at(plane, y + dy!, x + dx!);
      return acc;
    })));
  }
  return m;
}

function nested(t: Tensor): number[][][] {
  const [A, B, C] = t.shape as [number, number, number];
  const v = t.toArray();
  return Array.from({ length: A }, (_, a) => Array.from({ length: B }, (_, b) => v.slice((a * B + b) * C, (a * B + b + 1) * C)));
}

// Wrong here: a neighbour offset or its order, the padding mode, the std's divisor or window,
// the channel mean, the softmax axis, or the update.
test('PAMR equals the reference loops (dilations 1 and 2, 3 steps)', () => tidy(() => {
  const r = rand(3);
  const [K, C, H, W] = [3, 4, 7, 9];
  const guide = tensor(Float32Array.from({ length: K * H * W }, () => r() * 2 - 1), { shape: [K, H, W] });
  const scores = tensor(Float32Array.from({ length: C * H * W }, () => r()), { shape: [C, H, W] });
  const got = new Pamr({ steps: 3, dilations: [1, 2] }).refine(guide, scores);
  assertClose(got, naivePamr(nested(guide), nested(scores), 3, [1, 2]).flat(2), 1e-5, 'PAMR');
}));

// Wrong here: the affinities do not sum to one, so a constant map would drift, or the input is
// consumed (disposed or overwritten) by the refinement, or tensors leak.
test('PAMR keeps a constant map constant, leaves its input alone and frees its temporaries', () => {
  const live = liveTensorCount();
  tidy(() => {
    const r = rand(9);
    const guide = tensor(Float32Array.from({ length: 3 * 20 * 30 }, () => r()), { shape: [3, 20, 30] });
    const scores = tensor(Float32Array.from({ length: 2 * 20 * 30 }, (_, i) => (i < 600 ? 0.25 : -3)), { shape: [2, 20, 30] });
    const out = new Pamr({ steps: 10, dilations: [8, 16] }).refine(guide, scores);
    assertClose(out, scores, 1e-5, 'constant map');
    assert.equal(scores.select(0, 0).amin().item(), 0.25, 'input unchanged');
  });
  assert.equal(liveTensorCount(), live);
});

// Wrong here: scores smaller than the guide are not brought to its size the reference's way
// (bilinear, align_corners true) before refinement.
test('PAMR resizes smaller scores to the guide (align_corners true)', () => tidy(() => {
  const guide = tensor(new Float32Array(3 * 5 * 5).fill(1), { shape: [3, 5, 5] }); // flat guide: uniform affinity
  const scores = tensor([[[0, 1], [2, 3]]]);
  const out = new Pamr({ steps: 1, dilations: [1] }).refine(guide, scores);
  assert.deepEqual(out.shape, [1, 5, 5]);
  // A flat guide gives every neighbour weight 1/8: one step is the mean of the 8 neighbours
  // (replicate padding) of the align_corners-true upsampled map.
  const up = [[0, 0.25, 0.5, 0.75, 1], [0.5, 0.75, 1, 1.25, 1.5], [1, 1.25, 1.5, 1.75, 2], [1.5, 1.75, 2, 2.25, 2.5], [2, 2.25, 2.5, 2.75, 3]];
  const at = (y: number, x: number) => up[Math.min(Math.max(y, 0), 4)]![Math.min(Math.max(x, 0), 4)]!;
  const want = up.map((row, y) => row.map((_, x) => [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]].reduce((a, [dy, dx]) => a + at(y + dy!, x + dx!) / 8, 0)));
  assertClose(out, want.flat(), 1e-6, 'resized then refined');
}));

// Wrong here: bad settings reach the tensor code instead of a clear error.
test('PAMR rejects bad steps and dilations', () => {
  assert.throws(() => new Pamr({ steps: 0, dilations: [8] }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'PAMR: steps must be a positive integer, got 0'));
  assert.throws(() => new Pamr({ steps: 1, dilations: [] }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'PAMR: dilations must be positive integers, got []'));
  assert.throws(() => new Pamr({ steps: 1, dilations: [2.5] }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'PAMR: dilations must be positive integers, got [2.5]'));
});

// Wrong here: the wrapper does not refine the inner segmenter's scores with the image as guide.
test('PamrRefined refines any segmenter\'s scores', () => tidy(() => {
  const r = rand(4);
  const image = tensor(Uint8Array.from({ length: 3 * 12 * 10 }, () => Math.floor(r() * 256)), { shape: [3, 12, 10] });
  const maps = tensor(Float32Array.from({ length: 3 * 12 * 10 }, () => r()), { shape: [3, 12, 10] });
  const seg = new PamrRefined({ scores: () => maps }, { steps: 2, dilations: [1, 3] });
  const want = naivePamr(nested(image.float()), nested(maps), 2, [1, 3]);
  assertClose(seg.scores(image, ['a', 'b', 'c']), want.flat(2), 1e-5, 'refined scores');
  const labels = seg.labels(image, ['a', 'b', 'c']).toArray();
  const wantLabels = want[0]!.flatMap((row, y) => row.map((_, x) => [0, 1, 2].reduce((b, c) => (want[c]![y]![x]! > want[b]![y]![x]! ? c : b), 0)));
  assert.deepEqual(labels, wantLabels);
}));
