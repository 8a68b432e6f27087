// src/nn: parameter naming (PyTorch state-dict keys), state-dict loading, modes, freezing,
// parameter counts and the default initialisation of the basic layers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import {
  Conv2d, ConvTranspose2d, Dropout, Embedding, GELU, GroupNorm, Identity, LayerNorm, Linear, Module, ModuleList, QuickGELU, ReLU, Sequential,
  formatLoadReport, truncNormalInit,
} from '../../../src/nn/index.js';
import { conv2d, full, layerNorm, linear, liveTensorCount, manualSeed, ones, randn, tidy, zeros, type Tensor } from '../../../src/tensor/index.js';
import { assertClose, noLeak } from '../../helpers/assert_close.js';

/** A CLIP-like residual block: own parameter, a buffer pair, and nested children. */
class Block extends Module {
  readonly inProj: Tensor;
  readonly ln1: LayerNorm;
  readonly attn: Linear;
  readonly mlp: Sequential;
  constructor(width: number) {
    super();
    this.inProj = this.param('in_proj_weight', zeros([3 * width, width]));
    this.buffer('attn_mask', full([2, 2], -Infinity));
    this.buffer('cache', zeros([1]), false); // non-persistent: not in the state dict
    this.ln1 = this.child('ln_1', new LayerNorm(width));
    this.attn = this.child('attn', new Linear(width, width));
    this.mlp = this.child('mlp', new Sequential(new Linear(width, 2 * width), new QuickGELU(), new Linear(2 * width, width)));
  }
}

/** A module with a public way to register a child (child() is protected). */
class Holder extends Module {
  register(name: string, m: Module): void {
    this.child(name, m);
  }
}

/** OpenAI-CLIP-like nesting: class_embedding, transformer.resblocks.N.*, proj. */
class Tower extends Module {
  readonly transformer: Holder;
  readonly resblocks: ModuleList<Block>;
  readonly proj: Linear;
  constructor(width: number, layers: number) {
    super();
    this.param('class_embedding', zeros([width]));
    this.transformer = this.child('transformer', new Holder());
    this.resblocks = new ModuleList(Array.from({ length: layers }, () => new Block(width)));
    this.transformer.register('resblocks', this.resblocks);
    this.proj = this.child('proj', new Linear(width, 3, { bias: false }));
  }
}

const makeTower = (width = 4, layers = 2) => new Tower(width, layers);

const blockKeys = (p: string) => [
  `${p}.in_proj_weight`, `${p}.ln_1.weight`, `${p}.ln_1.bias`, `${p}.attn.weight`, `${p}.attn.bias`,
  `${p}.mlp.0.weight`, `${p}.mlp.0.bias`, `${p}.mlp.2.weight`, `${p}.mlp.2.bias`,
];

const stateErr = (re: RegExp) => (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_STATE_DICT' && re.test(e.message);

describe('parameter names and state dicts', () => {
  it("named parameters use PyTorch's dotted names in registration order (nested custom modules, Sequential, ModuleList)", () => {
    const base = liveTensorCount();
    const m = makeTower(4, 2);
    const names = [...m.namedParameters()].map(([n]) => n);
    // Own parameters first, then children depth-first in registration order (as torch's named_parameters).
    assert.deepEqual(names, ['class_embedding', ...blockKeys('transformer.resblocks.0'), ...blockKeys('transformer.resblocks.1'), 'proj.weight']);
    const sd = m.stateDict();
    // Persistent buffers are in the state dict after the parameters; non-persistent ones are not.
    assert.deepEqual([...sd.keys()], [...names, 'transformer.resblocks.0.attn_mask', 'transformer.resblocks.1.attn_mask']);
    assert.equal(sd.has('transformer.resblocks.0.cache'), false, 'non-persistent buffer excluded');
    assert.deepEqual([...m.namedBuffers()].map(([n]) => n), [
      'transformer.resblocks.0.attn_mask', 'transformer.resblocks.0.cache', 'transformer.resblocks.1.attn_mask', 'transformer.resblocks.1.cache',
    ]);
    assert.equal(sd.get('proj.weight'), m.proj.weight, 'the state dict holds the parameter tensors themselves');
    assert.deepEqual([...m.namedModules()].map(([n]) => n).slice(0, 5), ['', 'transformer', 'transformer.resblocks', 'transformer.resblocks.0', 'transformer.resblocks.0.ln_1']);
    assert.deepEqual([...m.namedParameters('visual')][0]![0], 'visual.class_embedding', 'prefix');
    const seq = new Sequential(new Linear(2, 3), new ReLU(), new Dropout(0.1), new Linear(3, 1));
    assert.deepEqual([...seq.namedParameters()].map(([n]) => n), ['0.weight', '0.bias', '3.weight', '3.bias'], 'parameter-free layers keep their index');
    assert.ok(m.parameters().every((p) => p.requiresGrad && p.isLeaf), 'parameters are trainable leaves');
    m.dispose();
    seq.dispose();
    assert.equal(liveTensorCount(), base, 'Module.dispose frees every parameter and buffer');
  });

  it('strict loadStateDict copies values into the same tensors (identity kept) and rejects missing, unexpected and mis-shaped keys, listing all', () => {
    const base = liveTensorCount();
    const m = makeTower(4, 1);
    const src = makeTower(4, 1);
    tidy(() => {
      // Give the source distinct values.
      for (const [, t] of src.stateDict()) t.requiresGrad_(false).fill_(0.5).requiresGrad_(true);
    });
    const before = new Map(m.stateDict());
    const report = m.loadStateDict(src.stateDict());
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    for (const [k, t] of m.stateDict()) {
      assert.equal(t, before.get(k), `${k}: same Tensor object after load`);
      assertClose(t, 0.5, 0, 0, `${k}: value loaded`);
      if (k.endsWith('attn_mask')) continue;
      assert.equal(t.requiresGrad, true, `${k}: still a trainable parameter after load`);
    }
    // Now a bad state dict: one key missing, one unexpected, one with the wrong shape.
    tidy(() => {
      const bad = new Map(src.stateDict());
      bad.delete('proj.weight');
      bad.set('transformer.resblocks.0.extra', zeros([1]));
      bad.set('transformer.resblocks.0.attn.weight', zeros([5, 4]));
      bad.set('class_embedding', full([4], 9));
      assert.throws(() => m.loadStateDict(bad, { source: 'ckpt.pth' }), (e: unknown) => {
        assert.ok(e instanceof AhsError && e.code === 'AHS_ERR_STATE_DICT');
        assert.match(e.message, /missing keys \(1\): proj\.weight/);
        assert.match(e.message, /unexpected keys \(1\): transformer\.resblocks\.0\.extra/);
        assert.match(e.message, /shape mismatch for transformer\.resblocks\.0\.attn\.weight: model \[4,4\], ckpt\.pth \[5,4\]/);
        assert.match(e.message, /ckpt\.pth/);
        return true;
      });
      assertClose(m.stateDict().get('class_embedding')!, 0.5, 0, 0, 'a failed strict load changes nothing');
      // Lenient: loads what matches and reports the rest.
      const r = m.loadStateDict(bad, { strict: false });
      assert.deepEqual(r.missing, ['proj.weight']);
      assert.deepEqual(r.unexpected, ['transformer.resblocks.0.extra']);
      assert.deepEqual(r.mismatched, [{ key: 'transformer.resblocks.0.attn.weight', expected: [4, 4], got: [5, 4] }]);
      assertClose(m.stateDict().get('class_embedding')!, 9, 0, 0, 'lenient load copies matching keys');
      assertClose(m.stateDict().get('transformer.resblocks.0.attn.weight')!, 0.5, 0, 0, 'mis-shaped key left untouched');
      assert.equal(formatLoadReport(r, 'x.pth'), [
        'missing keys (1): proj.weight',
        'unexpected keys (1): transformer.resblocks.0.extra',
        'shape mismatch for transformer.resblocks.0.attn.weight: model [4,4], x.pth [5,4]',
      ].join('\n'));
    });
    assert.throws(() => m.loadStateDict(new Map()), stateErr(/missing keys \(\d+\)/), 'empty state dict is all missing');
    m.dispose();
    src.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('train/eval propagate to every submodule; Dropout is the identity in eval', () => {
    const base = liveTensorCount();
    const m = makeTower(4, 2);
    assert.ok([...m.namedModules()].every(([, s]) => s.training), 'modules start in training mode');
    m.eval();
    assert.ok([...m.namedModules()].every(([, s]) => !s.training), 'eval() reaches every descendant');
    m.resblocks.at(1).train();
    assert.equal(m.resblocks.at(1).mlp.training, true, 'train() on a child reaches its descendants');
    assert.equal(m.resblocks.at(0).training, false, 'and not its siblings');
    m.train();
    assert.ok([...m.namedModules()].every(([, s]) => s.training));
    const d = new Dropout(0.5);
    noLeak(() => {
      const x = randn([1000]);
      d.eval();
      assertClose(d.forward(x), x, 0, 0, 'eval dropout is the identity');
      d.train();
      const y = d.forward(x).toArray();
      const zerosN = y.filter((v) => v === 0).length;
      assert.ok(zerosN > 350 && zerosN < 650, `train dropout zeros about half (${zerosN}/1000)`);
    });
    m.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('freeze/requiresGrad_ and numParameters (trainable vs total)', () => {
    const base = liveTensorCount();
    const m = makeTower(4, 2);
    // Per block: in_proj 12*4 + ln 4+4 + attn 16+4 + mlp (4*8+8) + (8*4+4) = 48 + 8 + 20 + 40 + 36 = 152.
    const total = 4 + 2 * 152 + 3 * 4;
    assert.equal(m.numParameters(), total, 'total parameter count');
    assert.equal(m.numParameters(true), total, 'all trainable initially');
    m.freeze();
    assert.equal(m.numParameters(true), 0, 'freeze() makes nothing trainable');
    assert.equal(m.numParameters(), total, 'freezing does not change the total');
    assert.ok(m.parameters().every((p) => !p.requiresGrad));
    m.resblocks.at(1).mlp.requiresGrad_(true);
    assert.equal(m.numParameters(true), 40 + 36, 'unfreezing one submodule');
    // Frozen parameters get no gradient.
    noLeak(() => {
      const x = ones([2, 4]);
      const y = m.resblocks.at(1).mlp.forward(m.resblocks.at(0).attn.forward(x)).sum();
      y.backward();
      assert.equal(m.resblocks.at(0).attn.weight.grad, null, 'frozen parameter has no grad');
      assert.notEqual(m.resblocks.at(1).mlp.layers[0]!.parameters()[0]!.grad, null, 'trainable parameter has a grad');
    });
    m.dispose();
    assert.equal(liveTensorCount(), base);
  });
});

describe('layers', () => {
  it('every layer forward leaves only its output alive, outside any scope', () => {
    const x = randn([2, 4, 6, 6]);
    const layers: [string, Module & { forward(t: Tensor): Tensor }][] = [
      ['Linear', new Linear(6, 3)], ['Conv2d', new Conv2d(4, 2, 3, { padding: 1 })], ['ConvTranspose2d', new ConvTranspose2d(4, 2, 2, { stride: 2 })],
      ['LayerNorm', new LayerNorm(6)], ['GroupNorm', new GroupNorm(2, 4)], ['Dropout train', new Dropout(0.5)], ['Dropout eval', new Dropout(0.5).eval()],
      ['Identity', new Identity()], ['GELU', new GELU()], ['QuickGELU', new QuickGELU()], ['ReLU', new ReLU()],
      ['Sequential', new Sequential(new Linear(6, 5), new QuickGELU(), new Identity(), new Linear(5, 2))],
    ];
    for (const [name, layer] of layers) {
      const before = liveTensorCount();
      layer.forward(x).dispose();
      assert.equal(liveTensorCount(), before, `${name}.forward left ${liveTensorCount() - before} tensor(s) behind`);
      layer.dispose();
    }
    x.dispose();
  });

  it('default init: Linear and Conv2d weights and biases within 1/sqrt(fan_in) and filling that range', () => {
    const base = liveTensorCount();
    const check = (name: string, t: Tensor, fanIn: number) => {
      const bound = 1 / Math.sqrt(fanIn);
      const v = t.toArray();
      const m = Math.max(...v.map(Math.abs));
      assert.ok(m <= bound, `${name}: max |w| ${m} exceeds 1/sqrt(${fanIn}) = ${bound}`);
      if (v.length >= 50) assert.ok(m > 0.8 * bound, `${name}: max |w| ${m} far below the bound ${bound} (wrong fan-in?)`);
      const mean = v.reduce((s, q) => s + q, 0) / v.length;
      if (v.length >= 500) assert.ok(Math.abs(mean) < 0.1 * bound, `${name}: U(-b, b) has mean ~0, got ${mean}`);
    };
    const lin = new Linear(50, 40);
    assert.deepEqual(lin.weight.shape, [40, 50]);
    check('Linear.weight', lin.weight, 50);
    check('Linear.bias', lin.bias!, 50);
    const conv = new Conv2d(6, 8, 3, { groups: 2 });
    assert.deepEqual(conv.weight.shape, [8, 3, 3, 3]);
    check('Conv2d.weight', conv.weight, 27);
    check('Conv2d.bias', conv.bias!, 27);
    const conv2 = new Conv2d(4, 16, [1, 5]);
    check('Conv2d 1x5 weight', conv2.weight, 20);
    const ct = new ConvTranspose2d(8, 4, 2, { stride: 2 });
    assert.deepEqual(ct.weight.shape, [8, 4, 2, 2], 'ConvTranspose2d weight is [in, out, kh, kw]');
    check('ConvTranspose2d.weight', ct.weight, 16); // PyTorch's fan_in for transposed convs uses weight dim 1
    const ln = new LayerNorm(6);
    assert.deepEqual(ln.weight.toArray(), [1, 1, 1, 1, 1, 1]);
    assert.deepEqual(ln.bias.toArray(), [0, 0, 0, 0, 0, 0]);
    const gn = new GroupNorm(2, 4);
    assert.deepEqual(gn.weight.toArray(), [1, 1, 1, 1]);
    const emb = new Embedding(100, 20);
    const ev = emb.weight.toArray();
    const sd = Math.sqrt(ev.reduce((s, q) => s + q * q, 0) / ev.length);
    assert.ok(Math.abs(sd - 1) < 0.1, `Embedding init is N(0, 1), std ${sd}`);
    const noBias = new Linear(3, 2, { bias: false });
    assert.equal(noBias.bias, null);
    assert.deepEqual([...noBias.namedParameters()].map(([n]) => n), ['weight']);
    for (const mod of [lin, conv, conv2, ct, ln, gn, emb, noBias]) mod.dispose();
    assert.equal(liveTensorCount(), base);
    assert.throws(() => new Conv2d(6, 8, 3, { groups: 4 }), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT');
  });

  it('truncNormalInit follows timm trunc_normal_: absolute bounds [-2, 2], out-of-range samples redrawn (not clamped)', () => {
    const base = liveTensorCount();
    manualSeed(3);
    const wide = truncNormalInit([20000], 1);
    const v = wide.toArray();
    assert.ok(v.every((q) => q >= -2 && q <= 2), 'all samples within [-2, 2]');
    const atBounds = v.filter((q) => Math.abs(q) === 2).length;
    // Clamping would pile ~4.6% of N(0,1) samples onto the bounds; redrawing puts none there.
    assert.equal(atBounds, 0, `${atBounds} samples sit exactly on the bounds (clamped instead of redrawn)`);
    // std of N(0,1) truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))) = 0.8796.
    const sd = Math.sqrt(v.reduce((s2, q) => s2 + q * q, 0) / v.length);
    assert.ok(Math.abs(sd - 0.8796) < 0.015, `truncated std ${sd}`);
    // With a small std the absolute bounds never bind: plain N(0, 0.02^2), std ~0.02.
    const narrowT = truncNormalInit([20000], 0.02);
    const narrow = narrowT.toArray();
    narrowT.dispose();
    const sdn = Math.sqrt(narrow.reduce((s2, q) => s2 + q * q, 0) / narrow.length);
    assert.ok(Math.abs(sdn - 0.02) < 0.0005, `std 0.02 init has std ${sdn} (a 2-sigma clamp would cut it to ~0.0176)`);
    assert.ok(narrow.filter((q) => Math.abs(q) > 0.04).length > 500, 'values beyond 2 std exist (~4.6%)');
    const shifted = truncNormalInit([1000], 0.5, 1, 0, 2);
    const mean = shifted.toArray();
    assert.ok(mean.every((q) => q >= 0 && q <= 2), 'custom mean and bounds');
    wide.dispose();
    shifted.dispose();
    assert.equal(liveTensorCount(), base, 'truncNormalInit leaves only its result');
  });

  it('forward of each layer equals the functional op with its parameters; Sequential chains without leaking', () => {
    const lin = new Linear(4, 3);
    const conv = new Conv2d(2, 4, 3, { padding: 1, stride: 2, groups: 2 });
    const ln = new LayerNorm(4);
    const seq = new Sequential(new Linear(4, 8), new GELU(), new Identity(), new Linear(8, 2));
    const base = liveTensorCount();
    noLeak(() => {
      const x = randn([5, 4]);
      assertClose(lin.forward(x), linear(x, lin.weight, lin.bias), 0, 0, 'Linear');
      const img = randn([1, 2, 5, 5]);
      assertClose(conv.forward(img), conv2d(img, conv.weight, conv.bias, 2, 1, 1, 2), 0, 0, 'Conv2d passes stride/padding/groups');
      assertClose(ln.forward(x), layerNorm(x, [4], ln.weight, ln.bias, 1e-5), 0, 0, 'LayerNorm');
      const l0 = seq.layers[0] as Linear;
      const l3 = seq.layers[3] as Linear;
      const ref = linear(linear(x, l0.weight, l0.bias).gelu(), l3.weight, l3.bias);
      const countBefore = liveTensorCount();
      const y = seq.forward(x);
      assert.equal(liveTensorCount(), countBefore + 1, 'Sequential frees its intermediates, leaving only the output');
      assertClose(y, ref, 1e-6, 0, 'Sequential');
      assert.throws(() => lin.forward(randn([2, 5])), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE');
      assert.throws(() => conv.forward(randn([1, 3, 5, 5])), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE');
      assert.throws(() => new ModuleList([lin]).at(3), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT');
    });
    assert.equal(liveTensorCount(), base);
    for (const mod of [lin, conv, ln, seq]) mod.dispose();
  });
});
