// H-CLIP orthogonal fine-tuning parity (golden hclip_oft.* fixtures, README section hclip_oft):
// the shared tensor from its counter hash, both relation mixings, the Cayley / free transforms
// and the effective-weight probes, for every layer and tower the fixture lists. Block size, block
// counts, layer count, seed, scale and probe counts all come from the files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OftRelation, OFT_MATRICES, type OftTower } from '../../src/models/clip/finetune/oft_relation.js';
import { mulBlockDiagLeft, mulBlockDiagRight } from '../../src/models/clip/finetune/cayley.js';
import { dispose, eye, fromBytes, noGrad, stack, tidy, type Tensor } from '../../src/tensor/index.js';
import { goldenPath, goldenTolerance, loadGolden, maxAbsDiff, skipUnless } from '../helpers/golden.js';

const skip = skipUnless('hclip_oft.safetensors', 'hclip_oft.json', 'README.md');

interface BlockStats {
  A_block_sums: number[];
  A_block_fro: number[];
  R_block_fro: number[];
  R_orthogonality_err_max: number;
}
interface OftJson {
  prng_seed: number;
  perturbation_scale: number;
  layers: number[];
  probe_rows_or_cols: number;
  blocks: Record<string, BlockStats>;
  attn_layer_R_checks: { sum: number; sum_sq: number; entries: Record<string, number> };
}

/**
 * The README's `attn_layer_R`: for flat index n (C order over `shape` = [b, b, S, m]),
 * h = lowbias32((n + seed * 0x9E3779B9) mod 2^32), u = (h >> 8) / 2^24, value = init + scale * (u - 0.5)
 * in float64 rounded to float32; init 0 on the first `textSlices` slices of the last axis, the b x b
 * identity on the others.
 */
function hashedAttnLayerR(shape: [number, number, number, number], textSlices: number, seed: number, scale: number): Float32Array {
  const [b, b2, S, m] = shape;
  const out = new Float32Array(b * b2 * S * m);
  const s0 = Math.imul(seed >>> 0, 0x9e3779b9) >>> 0;
  let n = 0;
  for (let a = 0; a < b; a++) {
    for (let c = 0; c < b2; c++) {
      const diag = a === c ? 1 : 0;
      for (let l = 0; l < S; l++) {
        for (let i = 0; i < m; i++, n++) {
          let h = (n + s0) >>> 0;
          h ^= h >>> 16;
          h = Math.imul(h, 0x7feb352d);
          h ^= h >>> 15;
          h = Math.imul(h, 0x846ca68b);
          h ^= h >>> 16;
          const u = (h >>> 8) / 16777216;
          out[n] = (i < textSlices ? 0 : diag) + scale * (u - 0.5); // float64, rounded on store
        }
      }
    }
  }
  return out;
}

describe('H-CLIP OFT parity (hclip_oft)', { skip }, () => {
  let g: Map<string, Tensor>;
  let meta: Record<string, string>;
  let js: OftJson;
  let tol: number;
  let oft: OftRelation;
  let hashed: Float32Array;
  let layers: number[];
  let b: number;
  let S: number;
  let rText: number;

  before(() => {
    ({ tensors: g, metadata: meta } = loadGolden('hclip_oft.safetensors'));
    js = JSON.parse(readFileSync(goldenPath('hclip_oft.json'), 'utf8')) as OftJson;
    tol = goldenTolerance().output;
    layers = JSON.parse(meta.layers!) as number[];
    const corner = g.get('oft.attn_layer_R.slice_a0_4_b0_4')!;
    const anyA = g.get(`text.layer${layers[0]}.A_q.blocks_first_last`)!;
    b = anyA.size(1);
    S = corner.size(2);
    const m = corner.size(3);
    rText = g.get(`text.layer${layers[0]}.W_q.rows`)!.size(1) / b;
    const rVision = g.get(`vision.layer${layers[0]}.W_q.rows`)!.size(1) / b;
    assert.equal(rText + rVision, m, `block slices: ${rText} text + ${rVision} vision != ${m}`);
    assert.equal(S % 4, 0);
    const L = S / 4;
    assert.equal(g.get('oft.relation_m.weight')!.size(0), L, 'one modality relation per layer');
    oft = new OftRelation({ textWidth: rText * b, visionWidth: rVision * b, textLayers: L, visionLayers: L, blockSize: b });
    hashed = hashedAttnLayerR([b, b, S, m], rText, Number(meta.prng_seed), Number(meta.scale));
    noGrad(() => tidy(() => {
      oft.attn_q_proj_oft_layer_R.copy_(fromBytes(hashed, 'float32', [b, b, S, m]));
      oft.attn_q_proj_oft_relation_l_R.weight.copy_(g.get('oft.relation_l.weight')!);
      const rm = g.get('oft.relation_m.weight')!;
      for (let l = 0; l < L; l++) oft.attn_q_proj_oft_relation_m_R.at(l).weight.copy_(rm.select(0, l));
    }));
  });
  after(() => { oft.dispose(); dispose([...g.values()]); });

  // Wrong here means the hash (index order, seed mixing, rounding) or the text/vision init differs.
  test('attn_layer_R reproduced from the counter hash', () => tidy(() => {
    const corner = g.get('oft.attn_layer_R.slice_a0_4_b0_4')!;
    const [ca, cb] = corner.shape as [number, number];
    const mine = oft.attn_q_proj_oft_layer_R.narrow(0, 0, ca).narrow(1, 0, cb);
    assert.equal(maxAbsDiff(mine, corner), 0, 'stored corner slice differs');
    const m = hashed.length / (b * b * S);
    for (const [key, want] of Object.entries(js.attn_layer_R_checks.entries)) {
      const [a, c, l, i] = key.split(',').map(Number) as [number, number, number, number];
      assert.equal(hashed[((a * b + c) * S + l) * m + i], want, `attn_layer_R[${key}]`);
    }
    let sum = 0;
    let sumSq = 0;
    for (const v of hashed) { sum += v; sumSq += v * v; }
    const { sum: wantSum, sum_sq: wantSq } = js.attn_layer_R_checks;
    assert.ok(Math.abs(sum - wantSum) <= 1e-9 * Math.abs(wantSum), `sum ${sum} vs ${wantSum}`);
    assert.ok(Math.abs(sumSq - wantSq) <= 1e-9 * wantSq, `sum of squares ${sumSq} vs ${wantSq}`);
  }));

  const towers: OftTower[] = ['text', 'vision'];

  // Wrong here means a relation is applied on the wrong axis, transposed, or sliced wrongly.
  test('generator blocks A (first and last block of q, k, v, o) after both relation mixings', () => {
    for (const tower of towers) for (const l of layers) tidy(() => noGrad(() => {
      const A = oft.generators(tower, l); // (4, r, b, b)
      const r = A.size(1);
      OFT_MATRICES.forEach((mat, k) => {
        const want = g.get(`${tower}.layer${l}.A_${mat}.blocks_first_last`)!;
        const a = A.select(0, k);
        const d = maxAbsDiff(stack([a.select(0, 0), a.select(0, r - 1)]), want);
        assert.ok(d <= tol, `${tower}.layer${l}.A_${mat}: max|diff| ${d} > ${tol}`);
      });
    }));
  });

  // Wrong here means the Cayley convention (I-S)(I+S)^-1 or the text/vision (free) choice differs.
  test('applied transforms R: Cayley for text, the generator itself for vision', () => {
    for (const tower of towers) for (const l of layers) tidy(() => noGrad(() => {
      const A = oft.generators(tower, l);
      const R = oft.transforms(tower, l);
      const r = R.size(1);
      OFT_MATRICES.forEach((mat, k) => {
        const want = g.get(`${tower}.layer${l}.R_${mat}.blocks_first_last`);
        const rk = R.select(0, k);
        if (want) {
          const d = maxAbsDiff(stack([rk.select(0, 0), rk.select(0, r - 1)]), want);
          assert.ok(d <= tol, `${tower}.layer${l}.R_${mat}: max|diff| ${d} > ${tol}`);
        }
        if (tower === 'vision') assert.equal(maxAbsDiff(rk, A.select(0, k)), 0, `vision R_${mat} must be A (free)`);
      });
    }));
    assert.ok([...g.keys()].some((k) => /^text\..*\.R_q\./.test(k)), 'fixture has no text R blocks');
  });

  // Wrong here means BlockDiag(R) multiplies the wrong side (or transposed) of the frozen weights.
  test('effective weights: rows of W_q/k/v · BlockDiag(R), columns of BlockDiag(R_o) · W_o', () => {
    for (const tower of towers) for (const l of layers) tidy(() => noGrad(() => {
      const R = oft.transforms(tower, l);
      const probes = g.get(`${tower}.layer${l}.probe_index`)!.size(0);
      assert.equal(probes, js.probe_rows_or_cols);
      OFT_MATRICES.forEach((mat, k) => {
        const [wName, effName] = mat === 'o' ? ['W_o.cols', 'Weff_o.cols'] : [`W_${mat}.rows`, `Weff_${mat}.rows`];
        const w = g.get(`${tower}.layer${l}.${wName}`)!;
        const got = mat === 'o' ? mulBlockDiagLeft(R.select(0, k), w) : mulBlockDiagRight(w, R.select(0, k));
        assert.equal(mat === 'o' ? w.size(1) : w.size(0), probes);
        const d = maxAbsDiff(got, g.get(`${tower}.layer${l}.${effName}`)!);
        assert.ok(d <= tol, `${tower}.layer${l}.${effName}: max|diff| ${d} > ${tol}`);
      });
    }));
  });

  // Whole-block statistics (every block, not only the first and last). A sum or a norm of n
  // elements each within `tol` is within tol * sqrt(n) for independent rounding errors.
  test('per-block sums and Frobenius norms of A and R, and orthogonality of R (hclip_oft.json)', () => {
    const statTol = tol * b; // sqrt(b * b)
    let checked = 0;
    for (const tower of towers) for (const l of layers) tidy(() => noGrad(() => {
      const A = oft.generators(tower, l);
      const R = oft.transforms(tower, l);
      const I = eye(b);
      OFT_MATRICES.forEach((mat, k) => {
        const key = `${tower}.layer${l}.${mat}`;
        const want = js.blocks[key];
        assert.ok(want, `hclip_oft.json has no blocks.${key}`);
        const a = A.select(0, k);
        const rk = R.select(0, k);
        const close = (got: number[], exp: number[], what: string, t: number) => {
          assert.equal(got.length, exp.length, `${key} ${what}: ${got.length} blocks, expected ${exp.length}`);
          got.forEach((v, j) => assert.ok(Math.abs(v - exp[j]!) <= t, `${key} ${what}[${j}]: ${v} vs ${exp[j]} (tol ${t})`));
        };
        close(a.sum([1, 2]).toArray(), want.A_block_sums, 'A_block_sums', statTol);
        close(a.norm(2, [1, 2]).toArray(), want.A_block_fro, 'A_block_fro', statTol);
        close(rk.norm(2, [1, 2]).toArray(), want.R_block_fro, 'R_block_fro', statTol);
        // max over blocks and entries of |R^T R - I|: ~1e-6 (rounding) for text, O(0.1) for free vision.
        const orth = rk.transpose(1, 2).bmm(rk).sub(I).abs().amax().item();
        if (tower === 'text') assert.ok(orth <= 10 * tol, `${key}: text R not orthogonal (max|R^T R - I| = ${orth})`);
        assert.ok(Math.abs(orth - want.R_orthogonality_err_max) <= Math.max(tol, 1e-3 * want.R_orthogonality_err_max),
          `${key}: max|R^T R - I| ${orth} vs ${want.R_orthogonality_err_max}`);
        checked++;
      });
    }));
    assert.equal(checked, Object.keys(js.blocks).length, 'every block listed in hclip_oft.json was checked');
  });
});
