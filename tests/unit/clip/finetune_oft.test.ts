// src/models/clip/finetune: the Cayley transform, the block-diagonal products, the relation
// mixing (against naive JS loops in the reference's order) and the OftRelation module's sizes,
// names, parameter counts and identity init (ViT-B/16 and ViT-L/14 widths; no CLIP needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { cayley, mulBlockDiagLeft, mulBlockDiagRight } from '../../../src/models/clip/finetune/cayley.js';
import { OftRelation, oftStateDictFromHclip, relationGenerators } from '../../../src/models/clip/finetune/oft_relation.js';
import { eye, linalgInv, noGrad, tensor, zeros, type Tensor } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, noLeak } from '../../helpers/assert_close.js';
import { constant, gradcheck, leaf } from '../../helpers/gradcheck.js';

const f64 = (v: number[], shape: number[]) => tensor(v, { dtype: 'float64', shape });
const invalid = (re: RegExp) => (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT' && re.test(e.message);

describe('cayley', () => {
  it('is the identity for a zero, identity or symmetric generator', () => noLeak(() => {
    assertClose(cayley(zeros([2, 5, 5])), eye(5).expand([2, 5, 5]), 0);
    assertClose(cayley(eye(5)), eye(5), 0);
    const a = constant([4, 4], 3);
    assertClose(cayley(a.add(a.transpose(0, 1))), eye(4), 1e-15);
  }));

  it('equals (I - S)(I + S)^-1 with S the skew part, and is orthogonal, for [..., n, n]', () => noLeak(() => {
    const a = constant([2, 3, 6, 6], 5);
    const s = a.sub(a.transpose(-2, -1)).mul(0.5);
    const i = eye(6, 'float64');
    const r = cayley(a);
    assertClose(r, i.sub(s).matmul(linalgInv(i.add(s))), 1e-12, 0, 'Cayley convention');
    assertClose(r.transpose(-2, -1).matmul(r), i.expand([2, 3, 6, 6]), 1e-12, 0, 'R^T R = I');
    // The reference's sign convention: for small S, R ≈ I - 2S.
    const small = a.mul(1e-4);
    assertClose(cayley(small), i.sub(small.sub(small.transpose(-2, -1))), 1e-7, 0, 'R ≈ I - 2S');
  }));

  it('is differentiable (float64 finite differences)', () => noLeak(() => {
    gradcheck('cayley', (x) => cayley(x), [leaf([2, 4, 4], 7, -0.5, 0.5)]);
  }));

  it('rejects non-square input with the shape in the message', () => noLeak(() => {
    assert.throws(() => cayley(zeros([3, 4])), /cayley: generators must be \[\.\.\., n, n\], got \[3,\s?4\]/);
  }));
});

/** Naive W · BlockDiag(R) and BlockDiag(R) · W in JS (row-major arrays). */
function naiveBlockDiag(r: number[], nb: number, b: number): number[] {
  const d = nb * b;
  const out = new Array<number>(d * d).fill(0);
  for (let j = 0; j < nb; j++) for (let x = 0; x < b; x++) for (let y = 0; y < b; y++) out[(j * b + x) * d + j * b + y] = r[(j * b + x) * b + y]!;
  return out;
}
function naiveMatmul(a: number[], b: number[], n: number, k: number, m: number): number[] {
  const out = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let t = 0; t < k; t++) out[i * m + j] += a[i * k + t]! * b[t * m + j]!;
  return out;
}

describe('block-diagonal products', () => {
  it('W · BlockDiag(R) and BlockDiag(R) · W match the explicit block-diagonal matrix', () => noLeak(() => {
    const [nb, b, n] = [3, 2, 5];
    const r = jsRandom(nb * b * b, 11);
    const w1 = jsRandom(n * nb * b, 12);
    const w2 = jsRandom(nb * b * n, 13);
    const bd = naiveBlockDiag(r, nb, b);
    const rt = f64(r, [nb, b, b]);
    assertClose(mulBlockDiagRight(f64(w1, [n, nb * b]), rt), naiveMatmul(w1, bd, n, nb * b, nb * b), 1e-14);
    assertClose(mulBlockDiagLeft(rt, f64(w2, [nb * b, n])), naiveMatmul(bd, w2, nb * b, nb * b, n), 1e-14);
    assert.throws(() => mulBlockDiagRight(f64(w1, [nb * b, n]), rt), /mulBlockDiagRight: weight must be \[n, 6\] for 3 blocks of 2/);
    assert.throws(() => mulBlockDiagLeft(rt, f64(w1, [n, nb * b])), /mulBlockDiagLeft: weight must be \[6, n\]/);
  }));

  it('are differentiable in both arguments', () => noLeak(() => {
    gradcheck('mulBlockDiagRight', (w, r) => mulBlockDiagRight(w, r), [leaf([3, 4], 21), leaf([2, 2, 2], 22)]);
    gradcheck('mulBlockDiagLeft', (r, w) => mulBlockDiagLeft(r, w), [leaf([2, 2, 2], 23), leaf([4, 3], 24)]);
  }));
});

/**
 * H-CLIP's construction step by step on plain arrays: U = T ×₄ M (nn.Linear on the last axis),
 * keep slices offset..offset+count-1, W = U ×₃ L (nn.Linear on the layer axis), then slices 4ℓ..4ℓ+3;
 * returned as [4, r, b, b].
 */
function naiveGenerators(t: number[], l: number[], mw: number[], b: number, S: number, m: number, layer: number, offset: number, count: number): number[] {
  const at = (a: number, c: number, n: number, i: number) => t[((a * b + c) * S + n) * m + i]!;
  const out = new Array<number>(4 * count * b * b).fill(0);
  for (let a = 0; a < b; a++) for (let c = 0; c < b; c++) for (let j = 0; j < count; j++) {
    const u = new Array<number>(S).fill(0); // U[a, c, :, offset + j]
    for (let n = 0; n < S; n++) for (let i = 0; i < m; i++) u[n] += at(a, c, n, i) * mw[(offset + j) * m + i]!;
    for (let k = 0; k < 4; k++) {
      let w = 0;
      for (let n = 0; n < S; n++) w += u[n]! * l[(4 * layer + k) * S + n]!;
      out[((k * count + j) * b + a) * b + c] = w;
    }
  }
  return out;
}

describe('relationGenerators', () => {
  const [b, S, m] = [3, 12, 5]; // 3 layers, 2 text + 3 vision slices

  it('matches the reference construction (modality relation, slice, layer relation, slice)', () => noLeak(() => {
    const t = jsRandom(b * b * S * m, 31);
    const l = jsRandom(S * S, 32);
    const mw = jsRandom(m * m, 33);
    for (const [layer, offset, count] of [[0, 0, 2], [2, 2, 3], [1, 2, 3]] as const) {
      const got = relationGenerators(f64(t, [b, b, S, m]), f64(l, [S, S]), f64(mw, [m, m]), layer, offset, count);
      assert.deepEqual(got.shape, [4, count, b, b]);
      assertClose(got, naiveGenerators(t, l, mw, b, S, m, layer, offset, count), 1e-12, 0, `layer ${layer} slices ${offset}+${count}`);
    }
  }));

  it('is differentiable in the shared tensor and both relations', () => noLeak(() => {
    gradcheck('relationGenerators', (t, l, mw) => relationGenerators(t, l, mw, 1, 1, 3),
      [leaf([2, 2, 8, 4], 41), leaf([8, 8], 42), leaf([4, 4], 43)]);
  }));

  it('rejects mis-shaped relations and out-of-range layers', () => noLeak(() => {
    const t = zeros([b, b, S, m]);
    assert.throws(() => relationGenerators(t, zeros([S, S - 1]), zeros([m, m]), 0, 0, 2), /layer relation must be \[12, 12\]/);
    assert.throws(() => relationGenerators(t, zeros([S, S]), zeros([m, m]), 3, 0, 2), invalid(/layer 3/));
    assert.throws(() => relationGenerators(t, zeros([S, S]), zeros([m, m]), 0, 4, 2), invalid(/slices 4\.\.5/));
  }));
});

const vitB = { textWidth: 512, visionWidth: 768, textLayers: 12, visionLayers: 12 };

describe('OftRelation', () => {
  it("at ViT-B/16 sizes: H-CLIP's shapes, names and 7,864,320 + 2,304 + 1,200 trainable parameters", () => {
    const oft = new OftRelation(vitB);
    try {
      assert.equal(oft.blockSize, 128);
      assert.deepEqual([oft.textBlocks, oft.visionBlocks, oft.relationLayers], [4, 6, 12]);
      const sd = oft.stateDict();
      assert.deepEqual(sd.get('attn_q_proj_oft_layer_R')!.shape, [128, 128, 48, 10]);
      assert.deepEqual(sd.get('attn_q_proj_oft_relation_l_R.weight')!.shape, [48, 48]);
      for (let l = 0; l < 12; l++) assert.deepEqual(sd.get(`attn_q_proj_oft_relation_m_R.${l}.weight`)!.shape, [10, 10]);
      assert.equal(sd.size, 2 + 12);
      assert.ok([...sd.keys()].every((k) => k.includes('oft')), 'every name contains "oft" (H-CLIP\'s trainable rule)');
      assert.equal(oft.numParameters(true), 7_864_320 + 2_304 + 1_200);
      assert.equal(oft.numParameters(true), oft.numParameters());
    } finally {
      oft.dispose();
    }
  });

  it('starts at the identity: text generators 0, vision generators I, every transform I', () => {
    const oft = new OftRelation(vitB);
    try {
      noLeak(() => noGrad(() => {
        const I = eye(128);
        for (const l of [0, 11]) {
          assertClose(oft.generators('text', l), 0, 0, 0, `text A, layer ${l}`);
          assertClose(oft.generators('vision', l), I.expand([4, 6, 128, 128]), 0, 0, `vision A, layer ${l}`);
          assertClose(oft.transforms('text', l), I.expand([4, 4, 128, 128]), 0, 0, `text R, layer ${l}`);
          assertClose(oft.transforms('vision', l), I.expand([4, 6, 128, 128]), 0, 0, `vision R, layer ${l}`);
        }
      }));
    } finally {
      oft.dispose();
    }
  });

  it('ViT-L/14 (text 768 x 12 layers, vision 1024 x 24): relations over the deeper tower, text uses layers 0..11', () => {
    const oft = new OftRelation({ textWidth: 768, visionWidth: 1024, textLayers: 12, visionLayers: 24 });
    try {
      assert.deepEqual(oft.attn_q_proj_oft_layer_R.shape, [128, 128, 96, 14]);
      assert.deepEqual(oft.attn_q_proj_oft_relation_l_R.weight.shape, [96, 96]);
      assert.equal(oft.attn_q_proj_oft_relation_m_R.length, 24);
      noLeak(() => noGrad(() => {
        assert.deepEqual(oft.generators('text', 11).shape, [4, 6, 128, 128]);
        assert.deepEqual(oft.generators('vision', 23).shape, [4, 8, 128, 128]);
      }));
      assert.throws(() => oft.generators('text', 12), invalid(/text layer 12 out of range \[0, 11\]/));
    } finally {
      oft.dispose();
    }
  });

  it('the block size is an option and must divide both widths', () => {
    assert.throws(() => new OftRelation({ textWidth: 128, visionWidth: 192, textLayers: 3, visionLayers: 3 }),
      invalid(/block size 128 must divide the vision width 192/));
    const oft = new OftRelation({ textWidth: 128, visionWidth: 192, textLayers: 3, visionLayers: 3, blockSize: 64 });
    assert.deepEqual(oft.attn_q_proj_oft_layer_R.shape, [64, 64, 12, 5]);
    oft.dispose();
  });

  it('loads H-CLIP-style keys whatever their prefix, deduplicating the per-block copies', () => {
    const opts = { textWidth: 8, visionWidth: 12, textLayers: 2, visionLayers: 2, blockSize: 4 };
    const oft = new OftRelation(opts);
    const src = new OftRelation(opts);
    try {
      noLeak(() => {
        noGrad(() => { for (const p of src.parameters()) p.uniform_(-1, 1); });
        const hclip = new Map<string, Tensor>();
        for (const blk of ['clip_model.transformer.resblocks.0.', 'clip_model.transformer.resblocks.1.', 'clip_model.visual.transformer.resblocks.0.']) {
          for (const [k, t] of src.stateDict()) hclip.set(blk + k, t);
        }
        hclip.set('clip_model.visual.transformer.resblocks.0.attn.in_proj_weight', zeros([1]));
        const mapped = oftStateDictFromHclip(hclip);
        assert.deepEqual([...mapped.keys()].sort(), [...src.stateDict().keys()].sort());
        oft.loadStateDict(mapped);
        for (const [k, t] of oft.stateDict()) assert.ok(t.equal(src.stateDict().get(k)!), k);
        hclip.set('x.attn_q_proj_oft_relation_l_R.weight', zeros([3, 3]));
        assert.throws(() => oftStateDictFromHclip(hclip),
          /attn_q_proj_oft_relation_l_R\.weight: clip_model\.transformer\.resblocks\.0\.attn_q_proj_oft_relation_l_R\.weight is \[8,\s?8\] but x\.attn_q_proj_oft_relation_l_R\.weight is \[3,\s?3\]/);
      });
    } finally {
      oft.dispose();
      src.dispose();
    }
  });
});
