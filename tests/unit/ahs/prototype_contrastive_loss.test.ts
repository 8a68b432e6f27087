// DC-HSP's loss_contrastive (src/models/ahs/prototype_contrastive_loss.ts): mode downsampling of
// the labels to the feature grid on hand-made maps, the loss against a plain-JS transcription,
// its zero cases, ignore handling, class-id permutation, gradients, and that optimising it
// (features alone, or DC-HSP alone from its zero init) lowers it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClassAwareProjection } from '../../../src/models/ahs/dc_hsp.js';
import { modeDownsample, prototypeContrastiveLoss } from '../../../src/models/ahs/prototype_contrastive_loss.js';
import { l2Normalize } from '../../../src/models/catseg/cost_volume.js';
import { AdamW } from '../../../src/optim/index.js';
import { keep, manualSeed, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';
import { assertClose, jsRandom, noLeak } from '../../helpers/assert_close.js';
import { gradcheck, leaf } from '../../helpers/gradcheck.js';

const IGN = 255;
const labelsOf = (rows: number[][][], dtype: 'int64' | 'uint8' = 'int64') => tensor(rows, { dtype });
const unit = (shape: number[], seed: number, dim: number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return l2Normalize(tensor(jsRandom(n, seed), { shape }), dim);
};

/** Plain-JS mode downsampling: pixel (y, x) -> cell (floor((2y+1) gh / 2H), floor((2x+1) gw / 2W)). */
function jsMode(lab: number[][][], gh: number, gw: number): number[] {
  const out: number[] = [];
  for (const img of lab) {
    const H = img.length, W = img[0]!.length;
    const votes = Array.from({ length: gh * gw }, () => new Map<number, number>());
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const v = img[y]![x]!;
      if (v === IGN) continue;
      const cell = Math.floor(((2 * y + 1) * gh) / (2 * H)) * gw + Math.floor(((2 * x + 1) * gw) / (2 * W));
      votes[cell]!.set(v, (votes[cell]!.get(v) ?? 0) + 1);
    }
    for (const m of votes) {
      let best = IGN, n = 0;
      for (const [k, c] of [...m].sort((a, b) => a[0] - b[0])) if (c > n) { best = k; n = c; }
      out.push(best);
    }
  }
  return out;
}

/** Plain-JS loss: features (B, D, gh, gw) flat, text (T, P, D) flat. */
function jsLoss(feat: number[], [B, D, gh, gw]: number[], lab: number[][][], text: number[], P: number, temp: number): number {
  const cells = jsMode(lab, gh!, gw!);
  const G = gh! * gw!;
  const present = [...new Set(cells)].filter((k) => k !== IGN).sort((a, b) => a - b);
  if (present.length < 2) return 0;
  const normalize = (v: number[]) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
  const protos = present.map((k) => {
    const s = new Array<number>(D!).fill(0);
    cells.forEach((c, i) => {
      if (c !== k) return;
      const b = Math.floor(i / G), g = i % G;
      for (let d = 0; d < D!; d++) s[d]! += feat[(b * D! + d) * G + g]!;
    });
    return normalize(s);
  });
  const texts = present.map((k) => normalize(Array.from({ length: D! }, (_, d) => {
    let s = 0;
    for (let p = 0; p < P; p++) s += text[(k * P + p) * D! + d]!;
    return s / P;
  })));
  let loss = 0;
  protos.forEach((p, i) => {
    const logits = texts.map((t) => t.reduce((s, v, d) => s + v * p[d]!, 0) / temp);
    const m = Math.max(...logits);
    loss += m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0)) - logits[i]!;
  });
  return loss / present.length;
}

// (1, 5, 6) -> grid (2, 3): rows {0,1} | {2,3,4}, columns {0,1} | {2,3} | {4,5} by pixel centre.
const HAND = [
  [IGN, IGN, 2, 3, IGN, IGN],
  [IGN, 1, 3, 2, IGN, IGN],
  [0, 0, 4, 4, 5, 5],
  [0, 1, 3, 3, 1, 1],
  [1, IGN, 3, IGN, 1, 1],
];
const HAND_MODE = [1, 2, IGN, 0, 3, 1];

describe('modeDownsample', () => {
  it('takes the majority of the valid pixels of each cell, ties to the smallest id, no valid pixel -> ignore, with H, W not multiples of the grid (else prototypes get the wrong cells)', () => {
    noLeak(() => {
      const seven = Array.from({ length: 5 }, () => new Array<number>(6).fill(7));
      const out = modeDownsample(labelsOf([HAND, seven], 'uint8'), [2, 3]);
      assert.deepEqual(out.shape, [2, 2, 3]);
      assert.equal(out.dtype, 'int64');
      // Cell (0,0) is 3 ignore + one 1 (ignore does not vote); (0,1) ties 2 and 3; (0,2) is all
      // ignore (row 2's 5s belong to the lower cells: their centre 2.5/5 is on the boundary); the
      // second image must not mix with the first.
      assert.deepEqual(out.toArray(), [...HAND_MODE, 7, 7, 7, 7, 7, 7]);
    });
  });

  it('agrees with a plain-JS transcription on random maps, exact multiples included (else the histogram indexing is off)', () => {
    tidy(() => {
      for (const [H, W, gh, gw, seed] of [[8, 8, 4, 4, 1], [7, 9, 3, 4, 2], [3, 5, 4, 4, 3]] as const) {
        const vals = jsRandom(2 * H * W, seed, 0, 1).map((u) => (u < 0.2 ? IGN : Math.floor(u * 6)));
        const lab = Array.from({ length: 2 }, (_, b) => Array.from({ length: H }, (_, y) => vals.slice((b * H + y) * W, (b * H + y + 1) * W)));
        assert.deepEqual(modeDownsample(labelsOf(lab), [gh, gw]).toArray(), jsMode(lab, gh, gw), `${H}x${W} -> ${gh}x${gw}`);
      }
    });
  });

  it('returns all ignore for a map without valid pixels, and rejects negative labels', () => {
    tidy(() => {
      assert.deepEqual(modeDownsample(labelsOf([[[IGN, IGN], [IGN, IGN]]]), [1, 2]).toArray(), [IGN, IGN]);
      assert.throws(() => modeDownsample(labelsOf([[[0, -1]]]), [1, 1]),
        isAhsError('AHS_ERR_INVALID_ARGUMENT', 'modeDownsample: labels must be >= 0 or 255 (ignore), found -1'));
    });
  });
});

describe('prototypeContrastiveLoss', () => {
  const B = 2, D = 4, gh = 2, gw = 2, T = 4, P = 2;
  const lab4 = (seed: number) => {
    const v = jsRandom(B * 16, seed, 0, 1).map((u) => (u < 0.15 ? IGN : Math.floor(u * T)));
    return Array.from({ length: B }, (_, b) => Array.from({ length: 4 }, (_, y) => v.slice((b * 4 + y) * 4, (b * 4 + y + 1) * 4)));
  };

  for (const temperature of [0.1, 0.5]) {
    it(`matches a plain-JS transcription (temperature ${temperature}) (else prototypes, template means, masking or the softmax are wrong)`, () => {
      noLeak(() => {
        const feat = unit([B, D, gh, gw], 11, 1);
        const text = unit([T, P, D], 12, -1);
        const lab = lab4(13);
        const loss = prototypeContrastiveLoss(feat, labelsOf(lab), text, { temperature });
        const expected = jsLoss(feat.toArray(), [B, D, gh, gw], lab, text.toArray(), P, temperature);
        assert.ok(expected > 0 && Number.isFinite(loss.item()));
        assertClose(loss.item(), expected, 1e-5, 1e-5, 'loss');
      });
    });
  }

  it('is 0 with fewer than two classes present, yet back-propagates zeros (InfoNCE over one class is trivially 0; else backward() would throw)', () => {
    tidy(() => {
      const feat = unit([B, D, gh, gw], 21, 1).requiresGrad_(true);
      const text = unit([T, P, D], 22, -1).requiresGrad_(true);
      const one = labelsOf(Array.from({ length: B }, () => [[2, 2, IGN, 2], [2, 2, 2, 2], [1, IGN, 2, 2], [2, 2, 2, 2]]));
      const loss = prototypeContrastiveLoss(feat, one, text); // the single 1 is no cell's majority
      assert.equal(loss.item(), 0);
      loss.backward();
      assert.equal(feat.grad!.abs().amax().item(), 0);
      assert.equal(text.grad!.abs().amax().item(), 0);
      const none = prototypeContrastiveLoss(unit([B, D, gh, gw], 23, 1), labelsOf(Array.from({ length: B }, () => Array.from({ length: 4 }, () => [IGN, IGN, IGN, IGN]))), unit([T, P, D], 24, -1));
      assert.equal(none.item(), 0);
      assert.equal(none.requiresGrad, false);
    });
  });

  it('ignores ignore pixels: half-ignored cells keep their class and all-ignore cells give nothing, not class 0 (the AHS bug)', () => {
    tidy(() => {
      // 8x8 labels on a 4x4 grid: every 2x2 block one class from {1, 2, 3} (0 also exists in T).
      const cls = (b: number, cy: number, cx: number) => 1 + ((b + cy * 3 + cx) % 3);
      const clean = Array.from({ length: B }, (_, b) => Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => cls(b, y >> 1, x >> 1))));
      clean[0]![0]![0] = clean[0]![0]![1] = clean[0]![1]![0] = clean[0]![1]![1] = IGN; // one all-ignore cell, in both maps
      // Two of four pixels of every other cell ignored: the valid majority is unchanged.
      const holed = clean.map((img) => img.map((row, y) => row.map((v, x) => ((x + y) % 2 === 0 ? IGN : v))));
      const feat = unit([B, 6, 4, 4], 31, 1).requiresGrad_(true);
      const text = unit([4, 1, 6], 32, -1);
      const a = prototypeContrastiveLoss(feat, labelsOf(clean), text);
      const b = prototypeContrastiveLoss(feat, labelsOf(holed), text);
      assert.ok(a.item() > 0);
      assert.equal(b.item(), a.item(), 'ignoring minority pixels must not change the loss');
      // The all-ignore cell contributes nothing: its features get an exactly zero gradient.
      b.backward();
      const g = feat.grad!;
      assert.equal(g.select(0, 0).select(-1, 0).select(-1, 0).abs().amax().item(), 0, 'ignore cell gradient');
      assert.ok(g.abs().amax().item() > 0);
      // Treating ignore as class 0 (the original) would change it.
      const asZero = prototypeContrastiveLoss(feat, labelsOf(holed.map((img) => img.map((row) => row.map((v) => (v === IGN ? 0 : v))))), text);
      assert.ok(Math.abs(asZero.item() - a.item()) > 1e-3);
    });
  });

  it('is unchanged when class ids and text rows are permuted together (else text rows are indexed by position, not class id)', () => {
    tidy(() => {
      const perm = [3, 0, 4, 1, 2]; // class k -> perm[k]
      const lab = Array.from({ length: B }, (_, b) => Array.from({ length: 4 }, (_, y) => Array.from({ length: 4 }, (_, x) => (b * 3 + (y >> 1) * 2 + (x >> 1)) % 5)));
      const feat = unit([B, 8, gh, gw], 41, 1);
      const text = unit([5, 3, 8], 42, -1);
      const inv = perm.map((_, j) => perm.indexOf(j));
      const textP = text.indexSelect(0, tensor(BigInt64Array.from(inv, BigInt))); // row perm[k] = old row k
      const base = prototypeContrastiveLoss(feat, labelsOf(lab), text).item();
      const moved = prototypeContrastiveLoss(feat, labelsOf(lab.map((img) => img.map((r) => r.map((v) => perm[v]!)))), textP).item();
      assert.ok(base > 0);
      assertClose(moved, base, 1e-6, 'permuted');
      // A mismatched text order gives a different value, so the check above is not vacuous.
      const wrong = prototypeContrastiveLoss(feat, labelsOf(lab.map((img) => img.map((r) => r.map((v) => perm[v]!)))), text).item();
      assert.ok(Math.abs(wrong - base) > 1e-3);
    });
  });

  it('has the gradient of finite differences w.r.t. features and text, float64 (else the backward through the prototype means is wrong)', () => {
    const lab = labelsOf([[[0, 0, 1, IGN], [0, 2, 1, 1], [2, 2, 0, IGN], [2, 1, 0, 0]]]);
    gradcheck('prototypeContrastiveLoss', (f, l, t) => prototypeContrastiveLoss(f!, l!, t!, { temperature: 0.5 }),
      [leaf([1, 3, 2, 2], 51), lab, leaf([3, 2, 3], 52)]);
  });

  it('falls when optimised alone on tiny features with AdamW (else its gradient does not point downhill)', () => {
    manualSeed(61);
    const feat = keep(unit([B, 16, 4, 4], 61, 1).requiresGrad_(true));
    const text = keep(unit([3, 1, 16], 62, -1));
    const lab = labelsOf(Array.from({ length: B }, (_, b) => Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => (b + (y >> 2) + (x >> 1)) % 3))));
    keep(lab);
    const opt = new AdamW([feat], { lr: 0.05, weightDecay: 0 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      tidy(() => {
        const loss = prototypeContrastiveLoss(feat, lab, text);
        losses.push(loss.item());
        loss.backward();
      });
      opt.step();
      opt.zeroGrad();
    }
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses.at(-1)! < 0.2 * losses[0]!, `loss ${losses[0]} -> ${losses.at(-1)}`);
    for (const t of [feat, text, lab]) t.dispose();
  });

  it('trains DC-HSP from its zero init when it alone is optimised on t\' (else loss_contrastive could not move DC-HSP)', () => {
    manualSeed(71);
    const m = new ClassAwareProjection({ dim: 16, rank: 4, mode: 'rank' });
    const feat = keep(unit([B, 16, 4, 4], 71, 1));
    const text = keep(unit([3, 2, 16], 72, -1));
    const lab = keep(labelsOf(Array.from({ length: B }, (_, b) => Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => (b + (y >> 2) + (x >> 1)) % 3)))));
    const opt = new AdamW(m.parameters(), { lr: 0.02, weightDecay: 0 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      tidy(() => {
        const loss = prototypeContrastiveLoss(feat, lab, m.forward(text));
        losses.push(loss.item());
        loss.backward();
      });
      opt.step();
      opt.zeroGrad();
    }
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses.at(-1)! < 0.2 * losses[0]!, `loss ${losses[0]} -> ${losses.at(-1)}`);
    tidy(() => assert.ok(m.up.weight.abs().amax().item() > 0, 'B left zero'));
    for (const t of [feat, text, lab]) t.dispose();
    m.dispose();
  });

  it('rejects labels outside the classes and mismatched shapes, naming them (else text rows would be read out of range)', () => {
    tidy(() => {
      const feat = unit([1, D, gh, gw], 81, 1);
      const text = unit([3, 1, D], 82, -1);
      assert.throws(() => prototypeContrastiveLoss(feat, labelsOf([[[0, 3], [1, IGN]]]), text),
        isAhsError('AHS_ERR_INVALID_ARGUMENT', 'prototypeContrastiveLoss: labels must be in [0, 3) (one per class embedding) or 255 (ignore), found 3'));
      assert.throws(() => prototypeContrastiveLoss(feat, labelsOf([[[0, 1]], [[1, 0]]]), text),
        isAhsError('AHS_ERR_SHAPE', 'prototypeContrastiveLoss: expected features (B, D, gh, gw) and labels (B, H, W) with the same B, got [1,4,2,2] and [2,1,2]'));
      assert.throws(() => prototypeContrastiveLoss(feat, labelsOf([[[0, 1]]]), unit([3, 5], 83, -1)),
        isAhsError('AHS_ERR_SHAPE', 'prototypeContrastiveLoss: text embeddings must be (T, P, D=4), got [3,5]'));
      assert.throws(() => prototypeContrastiveLoss(feat, labelsOf([[[0, 1]]]), text, { temperature: 0 }),
        isAhsError('AHS_ERR_INVALID_ARGUMENT', "prototypeContrastiveLoss: option 'temperature' must be a positive number, got 0"));
    });
  });
});
