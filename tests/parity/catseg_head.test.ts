// Parity of the CAT-Seg head (Aggregator + guidance upsamplers + loss) with the golden fixtures
// made by cvlab-kaist/CAT-Seg's PyTorch code (README.md in the golden folder, sections
// catseg_head and e2e_sliding). Every count and shape comes from the files; the hyper-parameters
// that weights cannot tell (heads, attention type, training pooling, pad_len) come from
// configs/vitb_384.yaml, whose head the README says the fixture is. Tolerances (README): max |diff|
// <= 1e-4 on every F32 output, gradient L2 norms within 1e-3 relative.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import { openSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import {
  CatSegHead, aggregatorOptionsFromHeadConfig, aggregatorOptionsFromShapes, catSegLoss, normalizeClassEmbeddings, type AggregatorOptions,
} from '../../src/models/catseg/index.js';
import { CLIP, clipConfigFromShapes } from '../../src/models/clip/clip_model.js';
import { cat, fromBytes, interpolate, keep, noGrad, stack, tensor, tidy, type Tensor } from '../../src/tensor/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const goldenDir = process.env.AHS_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/fixtures/golden');
const gold = (f: string) => path.join(goldenDir, f);
const HEAD_FILES = ['catseg_head.weights.safetensors', 'catseg_head.io.safetensors', 'catseg_head.grads.json'];
const E2E_FILES = ['e2e_sliding.weights.safetensors', 'e2e_sliding.io.safetensors', 'clip_tiny.weights.safetensors'];
const missing = (files: string[]) => files.filter((f) => !existsSync(gold(f)));
const skipHead = missing(HEAD_FILES).length ? `golden fixtures missing in ${goldenDir}: ${missing(HEAD_FILES).join(', ')} (set AHS_GOLDEN_DIR)` : false;
const skipE2e = missing(E2E_FILES).length ? `golden fixtures missing in ${goldenDir}: ${missing(E2E_FILES).join(', ')} (set AHS_GOLDEN_DIR)` : false;

const PREFIX = 'sem_seg_head.predictor.transformer.';
/** eval.sh runs the test with POOLING_SIZES [1, 1] (README: "test pooling 1x1 (the eval.sh setting)"). */
const EVAL_POOLING: [number, number] = [1, 1];
const ATOL = 1e-4;
const GRAD_RTOL = 1e-3;

/** A stored tensor as float32 (F16 upcast exactly) or in its integer dtype. */
function load(f: SafetensorsFile, name: string): Tensor {
  const r = f.read(name);
  const t = fromBytes(r.data, r.dtype, r.shape);
  if (r.dtype !== 'float16' && r.dtype !== 'bfloat16') return t;
  const u = t.float();
  t.dispose();
  return u;
}

function stateDict(f: SafetensorsFile, skip: string[] = []): Map<string, Tensor> {
  return new Map([...f.entries.keys()].filter((k) => !skip.includes(k)).map((k) => [k, load(f, k)]));
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape, `shape ${JSON.stringify(a.shape)} vs expected ${JSON.stringify(b.shape)}`);
  return tidy(() => a.sub(b).abs().amax().item());
}

function assertClose(t: TestContext, name: string, actual: Tensor, expected: Tensor, atol = ATOL): void {
  const d = maxAbsDiff(actual, expected);
  t.diagnostic(`${name}: max|diff| ${d.toExponential(2)}`);
  assert.ok(d <= atol, `${name}: max |diff| ${d} > ${atol} (shape ${JSON.stringify(expected.shape)})`);
}

/** Collects traced intermediates (copied: the originals die with forward's scope). */
function recorder(wanted?: (name: string) => boolean): { got: Map<string, Tensor>; trace: (n: string, t: Tensor) => void } {
  const got = new Map<string, Tensor>();
  return { got, trace: (n, t) => { if (!wanted || wanted(n)) got.set(n, keep(t.detach().contiguous().clone())); } };
}

describe('CAT-Seg head parity (catseg_head.*)', { skip: skipHead }, () => {
  let w: SafetensorsFile;
  let io: SafetensorsFile;
  let head: CatSegHead;
  let opts: AggregatorOptions;
  let trainPooling: [number, number];
  const meta = (k: string) => {
    const v = io.metadata[k];
    assert.ok(v !== undefined, `catseg_head.io.safetensors metadata lacks '${k}'`);
    return Number(v);
  };
  const inputs = (T: number) => tidy(() => ({
    denseFeatures: load(io, 'clip_dense_features'), // (B, 1 + H W, C)
    taps: [load(io, 'clip_block3_out'), load(io, 'clip_block7_out')] as [Tensor, Tensor], // (L, B, W)
    tapLayout: 'LBC' as const,
    textEmbeds: normalizeClassEmbeddings(load(io, 'text_embeds_raw').narrow(0, 0, T)), // (T, P, C)
  }));

  before(() => {
    w = openSafetensors(gold('catseg_head.weights.safetensors'));
    io = openSafetensors(gold('catseg_head.io.safetensors'));
    const h = loadConfig(path.join(repoRoot, 'configs/vitb_384.yaml')).MODEL.SEM_SEG_HEAD;
    trainPooling = [h.POOLING_SIZES[0]!, h.POOLING_SIZES[1]!];
    const shapes = new Map([...w.entries].map(([k, e]) => [k, e.shape]));
    opts = aggregatorOptionsFromShapes(shapes, PREFIX, {
      numHeads: h.NUM_HEADS, attentionType: h.ATTENTION_TYPE, poolingSize: EVAL_POOLING, padLen: h.CLASS_PAD_LEN,
    });
    head = new CatSegHead({ aggregator: opts, clipWidth: shapes.get('upsample1.weight')![0]! });
  });

  it('loads catseg_head.weights strictly: 0 missing, 0 unexpected, 0 mis-shaped', () => {
    const sd = stateDict(w);
    const report = head.loadStateDict(sd, { strict: true, source: 'catseg_head.weights.safetensors' });
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    for (const t of sd.values()) t.dispose();
  });

  it('case i (eval, pooling 1x1): logits and every stored intermediate within 1e-4', (t) => {
    head.eval();
    head.transformer.setPoolingSize(EVAL_POOLING);
    const T = meta('T_case_i');
    const { got, trace } = recorder();
    const logits = noGrad(() => head.forward(inputs(T), { trace }));
    got.set('logits', logits);
    const names = [...io.entries.keys()].filter((k) => k.startsWith('i.'));
    assert.ok(names.includes('i.logits'), 'io file has no i.logits');
    for (const name of names) {
      const m = /^i\.(.*?)(?:\.c(\d+)_(\d+))?$/.exec(name)!;
      const actual = got.get(m[1]!);
      assert.ok(actual, `forward traced no '${m[1]}' (have ${[...got.keys()].join(', ')})`);
      tidy(() => {
        const a = m[2] === undefined ? actual : actual.narrow(1, Number(m[2]), Number(m[3]) - Number(m[2]));
        assertClose(t, name, a, load(io, name));
      });
    }
    for (const v of got.values()) v.dispose();
  });

  it('case ii (T > pad_len): top-k kept classes, cost maxima, per-class logit stats (-100 fill) and a logit subset', (t) => {
    head.eval();
    head.transformer.setPoolingSize(EVAL_POOLING);
    const T = meta('T_case_ii');
    assert.ok(T > opts.padLen, `case ii needs T_case_ii=${T} > pad_len=${opts.padLen}`);
    const { got, trace } = recorder((n) => n === 'corr_max' || n === 'kept_classes');
    const logits = noGrad(() => head.forward(inputs(T), { trace, classChunk: 32 })); // (B, T, h, w)
    tidy(() => {
      const kept = got.get('kept_classes')!.toArray();
      const expected = load(io, 'ii.kept_classes').toArray();
      assert.deepEqual([...kept].sort((a, b) => a - b), [...expected].sort((a, b) => a - b), 'kept class set differs');
      assert.deepEqual(kept, expected, 'kept classes are the same set in another order');
      assertClose(t, 'ii.corr_max', got.get('corr_max')!, load(io, 'ii.corr_max'));
      const flat = logits.flatten(2); // (B, T, h*w)
      const stats = stack([flat.mean(-1), flat.std(-1), flat.amin(-1), flat.amax(-1)], -1); // (B, T, 4)
      assertClose(t, 'ii.logits_stats', stats, load(io, 'ii.logits_stats'));
      const pruned = flat.amax(-1).eq(-100).logicalAnd(flat.amin(-1).eq(-100)).sum().item();
      assert.equal(pruned, logits.size(0) * (T - opts.padLen), 'every pruned class must be filled with -100');
      assertClose(t, 'ii.logits_subset', logits.indexSelect(1, load(io, 'ii.logits_subset_classes')), load(io, 'ii.logits_subset'));
    });
    logits.dispose();
    for (const v of got.values()) v.dispose();
  });

  it('case iii (training, pooling from vitb_384.yaml): logits, BCE loss, gradients', (t) => {
    head.train();
    head.transformer.setPoolingSize(trainPooling);
    const T = meta('T_case_iii');
    const grads = JSON.parse(readFileSync(gold('catseg_head.grads.json'), 'utf8')) as {
      loss: number; grad_l2_norms: Record<string, number>; total_grad_l2_norm_all_head_params: number; num_params_with_grad: number;
    };
    const params = new Map(head.namedParameters());
    for (const p of params.values()) p.grad = null;
    tidy(() => {
      const logits = head.forward(inputs(T)); // (B, T, h, w)
      assertClose(t, 'iii.logits', logits, load(io, 'iii.logits'));
      const loss = catSegLoss(logits, load(io, 'labels'), { mode: 'zero_target' });
      assertClose(t, 'iii.loss', loss.reshape([1]), load(io, 'iii.loss'));
      assert.ok(Math.abs(loss.item() - grads.loss) <= ATOL, `loss ${loss.item()} vs grads.json ${grads.loss}`);
      loss.backward();
    });
    tidy(() => {
      let sq = 0;
      let n = 0;
      for (const p of params.values()) {
        const g = p.grad;
        if (g) { sq += g.pow(2).sum().item(); n++; }
      }
      assert.equal(n, grads.num_params_with_grad, 'parameters with a gradient');
      const total = Math.sqrt(sq);
      const relTotal = Math.abs(total - grads.total_grad_l2_norm_all_head_params) / grads.total_grad_l2_norm_all_head_params;
      t.diagnostic(`total grad norm ${total} vs ${grads.total_grad_l2_norm_all_head_params} (rel ${relTotal.toExponential(2)})`);
      assert.ok(relTotal <= GRAD_RTOL, `total gradient norm ${total} vs ${grads.total_grad_l2_norm_all_head_params}`);
      for (const [name, expected] of Object.entries(grads.grad_l2_norms)) {
        const p = params.get(name);
        assert.ok(p, `no parameter '${name}'`);
        const norm = p.grad!.norm().item();
        const rel = Math.abs(norm - expected) / expected;
        t.diagnostic(`grad |${name}| ${norm} vs ${expected} (rel ${rel.toExponential(2)})`);
        assert.ok(rel <= GRAD_RTOL, `grad norm of ${name}: ${norm} vs ${expected} (rel ${rel})`);
      }
      for (const key of [...io.entries.keys()].filter((k) => k.startsWith('iii.grad.'))) {
        const name = key.slice('iii.grad.'.length);
        const e = load(io, key);
        const rel = p2(params.get(name)!.grad!.sub(e)) / p2(e);
        t.diagnostic(`${key}: max|diff| ${maxAbsDiff(params.get(name)!.grad!, e).toExponential(2)}, rel L2 ${rel.toExponential(2)}`);
        assert.ok(rel <= GRAD_RTOL, `${key}: relative L2 error ${rel}`);
      }
    });
    for (const p of params.values()) p.grad = null;
    head.eval();
  });
});

const p2 = (x: Tensor) => tidy(() => x.norm().item());

describe('CAT-Seg tiny head on the sliding-window views (e2e_sliding.*)', { skip: skipE2e }, () => {
  it('builds from head_config, loads strictly, and reproduces view_logits from the five views', (t) => {
    const hw = openSafetensors(gold('e2e_sliding.weights.safetensors'));
    const io = openSafetensors(gold('e2e_sliding.io.safetensors'));
    const cw = openSafetensors(gold('clip_tiny.weights.safetensors'));
    const textEmbeds = load(io, 'text_embeds'); // (T, P, D), normalised
    const opts = aggregatorOptionsFromHeadConfig(JSON.parse(hw.metadata.head_config!) as Record<string, unknown>, {
      poolingSize: EVAL_POOLING, promptChannels: textEmbeds.size(1), padLen: 256,
    });
    const head = new CatSegHead({ aggregator: opts, clipWidth: hw.entries.get('upsample1.weight')!.shape[0]! });
    const report = head.loadStateDict(stateDict(hw), { strict: true, source: 'e2e_sliding.weights.safetensors' });
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    head.eval();
    // The decoder guidance comes from CLIP blocks 0 and 1, which the io file does not hold: re-make
    // the five views from image_u8 as inference_sliding_window does and tap clip_tiny.
    // (openai/CLIP's build_model drops these three scalar entries before loading.)
    const clip = new CLIP(clipConfigFromShapes(new Map([...cw.entries].map(([k, e]) => [k, e.shape]))));
    clip.loadStateDict(stateDict(cw, ['input_resolution', 'context_length', 'vocab_size']), { strict: true });
    clip.eval();
    const grid = opts.featureResolution;
    const kernel = grid[0] * clip.cfg.visionPatchSize; // 384
    const stride = Math.trunc(kernel * (1 - 0.333)); // 256
    noGrad(() => tidy(() => {
      const img = load(io, 'image_u8').float().unsqueeze(0); // (1, 3, H, W)
      const big = interpolate(img, { size: [640, 640], mode: 'bilinear', alignCorners: false });
      const views: Tensor[] = [];
      for (let y = 0; y + kernel <= 640; y += stride) for (let x = 0; x + kernel <= 640; x += stride) views.push(big.narrow(2, y, kernel).narrow(3, x, kernel));
      views.push(interpolate(img, { size: [kernel, kernel], mode: 'bilinear', alignCorners: false }));
      const mean = tensor([122.7709383, 116.7460125, 104.09373615]).view([1, 3, 1, 1]);
      const std = tensor([68.5005327, 66.6321579, 70.323163]).view([1, 3, 1, 1]);
      const { tokens, taps } = clip.visual.dense(cat(views, 0).sub(mean).div(std), { taps: [0, 1] });
      const dense = load(io, 'clip_dense_features_views');
      assertClose(t, 'clip_dense_features_views (re-made views, clip_tiny)', tokens, dense);
      const logits = head.forward({ denseFeatures: dense, taps: [taps.get(0)!, taps.get(1)!], textEmbeds });
      assertClose(t, 'view_logits', logits, load(io, 'view_logits'));
    }));
    head.dispose();
    clip.dispose();
    for (const f of [hw, io, cw]) f.close();
  });
});
