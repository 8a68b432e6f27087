// Forward values of the op table (src/tensor/ops.gen.ts, from tools/gen/ops.table.ts) and the
// hand-written ops (functional.ts, methods.ts, creation.ts), each against a closed form or a
// naive plain-JS computation written from the op's definition (tests/helpers/naive.ts). No
// expected value comes from a torch run. Every test runs in tidy() and checks that the live
// tensor count is unchanged afterwards (noLeak).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AhsError } from '../../../src/errors.js';
import {
  arange, attention, avgPool2d, binaryCrossEntropyWithLogits, cat, chunk, col2im, conv2d, convTranspose2d, crossEntropy, dispose, dropout, einsum, embedding, eye,
  fromBytes, full, groupNorm, im2col, interpolate, layerNorm, linalgInv, linalgSolve, linear, liveTensorCount, manualSeed, maxPool2d, ones, onesLike, pad,
  quickGelu, rand, randint, randn, scalar, split, squeezeAll, stack, tensor, where, zeros, zerosLike, fullLike, type DType, type Tensor,
} from '../../../src/tensor/index.js';
import { assertClose, erf, jsRandom, noLeak, numelOf, reduceJs } from '../../helpers/assert_close.js';
import {
  bicubicTaps, bilinearTaps, naiveAvgPool2d, naiveBmm, naiveConv2d, naiveConvTranspose2d, naiveGroupNorm, naiveIm2col, naiveLayerNorm,
  naiveResize, naiveSoftmax, nearestTaps,
} from '../../helpers/naive.js';
import { SafetensorsFile } from '../../helpers/safetensors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A float tensor of deterministic JS random values, plus the values as float32-rounded numbers. */
function rnd(shape: number[], seed: number, lo = -1, hi = 1, dtype: DType = 'float32'): [Tensor, number[]] {
  const vals = jsRandom(numelOf(shape), seed, lo, hi).map((v) => (dtype === 'float32' ? Math.fround(v) : v));
  return [tensor(vals, { shape, dtype }), vals];
}
const i64 = (v: number[], shape?: number[]) => tensor(v, { dtype: 'int64', shape: shape ?? [v.length] });

describe('elementwise arithmetic', () => {
  it('add/sub/mul/div broadcast [2,3] with [3] and [2,1] with [1,3] (wrong values = broken broadcasting or overload dispatch)', () => noLeak(() => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const row = tensor([10, 20, 30]);
    const col = tensor([[1], [2]]);
    const r13 = tensor([[1, 10, 100]]);
    assertClose(a.add(row), [11, 22, 33, 14, 25, 36], 0, 0, 'add row');
    assert.deepEqual(a.add(row).shape, [2, 3]);
    assertClose(a.sub(row), [-9, -18, -27, -6, -15, -24], 0, 0, 'sub row');
    assertClose(a.mul(col), [1, 2, 3, 8, 10, 12], 0, 0, 'mul col');
    assertClose(a.div(col), [1, 2, 3, 2, 2.5, 3], 0, 0, 'div col');
    const outer = col.mul(r13);
    assert.deepEqual(outer.shape, [2, 3], '[2,1]*[1,3] broadcasts to [2,3]');
    assertClose(outer, [1, 10, 100, 2, 20, 200], 0, 0, 'outer');
    // alpha: self + alpha * other, self - alpha * other
    assertClose(a.add(row, 2), [21, 42, 63, 24, 45, 66], 0, 0, 'add alpha');
    assertClose(a.sub(row, 0.5), [-4, -8, -12, -1, -5, -9], 0, 0, 'sub alpha');
  }));

  it('Tensor|number overloads: scalar add/sub/mul/div/pow/rsub/remainder (a wrong overload gives wrong values)', () => noLeak(() => {
    const a = tensor([-7, -1.5, 0, 2, 7]);
    assertClose(a.add(1.5), [-5.5, 0, 1.5, 3.5, 8.5], 0, 0, 'add scalar');
    assertClose(a.add(1, 3), [-4, 1.5, 3, 5, 10], 0, 0, 'add scalar alpha');
    assertClose(a.sub(2), [-9, -3.5, -2, 0, 5], 0, 0, 'sub scalar');
    assertClose(a.mul(-2), [14, 3, -0, -4, -14], 0, 0, 'mul scalar');
    assertClose(a.div(4), [-1.75, -0.375, 0, 0.5, 1.75], 0, 0, 'div scalar');
    assertClose(a.pow(2), [49, 2.25, 0, 4, 49], 0, 0, 'pow scalar');
    assertClose(a.abs().pow(tensor([0.5, 2, 3, 3, 0])), [Math.sqrt(7), 2.25, 0, 8, 1], 1e-6, 0, 'pow tensor');
    assertClose(a.rsub(10), [17, 11.5, 10, 8, 3], 0, 0, 'rsub');
    // Python-style modulus: sign of the divisor.
    assertClose(a.remainder(3), [2, 1.5, 0, 2, 1], 1e-6, 0, 'remainder scalar');
    assertClose(a.remainder(tensor([-3])), [-1, -1.5, 0, -1, -2], 1e-6, 0, 'remainder tensor');
    assertClose(a.maximum(tensor([0])), [0, 0, 0, 2, 7], 0, 0, 'maximum');
    assertClose(a.minimum(tensor([0])), [-7, -1.5, 0, 0, 0], 0, 0, 'minimum');
    assertClose(a.clamp(-2, 3), [-2, -1.5, 0, 2, 3], 0, 0, 'clamp');
    assertClose(a.clamp(null, 1), [-7, -1.5, 0, 1, 1], 0, 0, 'clamp max only');
    assertClose(a.clamp(0), [0, 0, 0, 2, 7], 0, 0, 'clamp min only');
    assertClose(a.lerp(tensor([1, 1, 1, 1, 1]), 0.25), [-5, -0.875, 0.25, 1.75, 5.5], 1e-6, 0, 'lerp');
  }));

  it('integer tensors stay integer with integer scalars; float scalars and true division promote to float32', () => noLeak(() => {
    const a = i64([1, 2, 3]);
    for (const [name, r, vals] of [
      ['add', a.add(2), [3, 4, 5]], ['sub', a.sub(1), [0, 1, 2]], ['mul', a.mul(3), [3, 6, 9]], ['pow', a.pow(2), [1, 4, 9]],
      ['remainder', a.remainder(2), [1, 0, 1]], ['add tensor', a.add(i64([10])), [11, 12, 13]],
    ] as [string, Tensor, number[]][]) {
      assert.equal(r.dtype, 'int64', `int64 ${name} int must stay int64`);
      assert.deepEqual(r.toArray(), vals, name);
    }
    const b = tensor([1, 2], { dtype: 'int32' });
    assert.equal(b.add(3).dtype, 'int32', 'int32 + int scalar stays int32');
    assert.deepEqual(b.mul(5).toArray(), [5, 10]);
    const f = a.add(2.5);
    assert.equal(f.dtype, 'float32', 'int64 + float scalar promotes to the default float dtype');
    assertClose(f, [3.5, 4.5, 5.5], 0, 0, 'int + 2.5');
    const d = a.div(2);
    assert.equal(d.dtype, 'float32', 'div is true division');
    assertClose(d, [0.5, 1, 1.5], 0, 0, 'int / 2');
    assert.equal(a.add(tensor([0.5])).dtype, 'float32', 'int64 tensor + float32 tensor is float32');
    assert.equal(tensor([1, 2], { dtype: 'float64' }).add(i64([1, 1])).dtype, 'float64', 'float64 + int64 is float64');
  }));

  it('comparisons return bool tensors with the right truth values (tensor and scalar)', () => noLeak(() => {
    const a = tensor([1, 2, 3, 4]);
    const b = tensor([4, 2, 1, 4]);
    const cases: [string, Tensor, number[]][] = [
      ['eq', a.eq(b), [0, 1, 0, 1]], ['ne', a.ne(b), [1, 0, 1, 0]], ['lt', a.lt(b), [1, 0, 0, 0]],
      ['le', a.le(b), [1, 1, 0, 1]], ['gt', a.gt(b), [0, 0, 1, 0]], ['ge', a.ge(b), [0, 1, 1, 1]],
      ['eq s', a.eq(2), [0, 1, 0, 0]], ['ne s', a.ne(2), [1, 0, 1, 1]], ['lt s', a.lt(3), [1, 1, 0, 0]],
      ['le s', a.le(3), [1, 1, 1, 0]], ['gt s', a.gt(2.5), [0, 0, 1, 1]], ['ge s', a.ge(2), [0, 1, 1, 1]],
      ['and', a.gt(1).logicalAnd(a.lt(4)), [0, 1, 1, 0]], ['or', a.lt(2).logicalOr(a.gt(3)), [1, 0, 0, 1]],
      ['not', a.gt(2).logicalNot(), [1, 1, 0, 0]],
    ];
    for (const [name, r, vals] of cases) {
      assert.equal(r.dtype, 'bool', `${name} dtype`);
      assert.deepEqual(r.toArray(), vals, name);
    }
    assert.deepEqual(where(a.gt(2), a, b.neg()).toArray(), [-4, -2, 3, 4], 'where');
    assertClose(a.maskedFill(a.gt(2), -1), [1, 2, -1, -1], 0, 0, 'maskedFill scalar');
    assertClose(a.maskedFill(a.lt(2), scalar(9)), [9, 2, 3, 4], 0, 0, 'maskedFill 0-d tensor');
    // Broadcast mask over rows.
    assertClose(ones([2, 2]).maskedFill(tensor([[true, false]]), 0), [0, 1, 0, 1], 0, 0, 'maskedFill broadcast');
    const n = tensor([NaN, Infinity, 1]);
    assert.deepEqual(n.isnan().toArray(), [1, 0, 0], 'isnan');
    assert.deepEqual(n.isfinite().toArray(), [0, 0, 1], 'isfinite');
    assert.equal(a.gt(0).all().item(), 1, 'all');
    assert.equal(a.gt(3).any().item(), 1, 'any');
    assert.equal(a.gt(4).any().item(), 0, 'any false');
    assert.equal(a.equal(a.clone()), true, 'equal');
    assert.equal(a.equal(b), false, 'equal false');
    assert.equal(a.allclose(a.add(1e-7)), true, 'allclose');
    assert.equal(a.allclose(a.add(1e-2)), false, 'allclose false');
  }));

  it('unary math matches Math.* (float64)', () => noLeak(() => {
    const v = [-2.5, -0.7, 0.3, 1.5, 2.5];
    const x = tensor(v, { dtype: 'float64' });
    const p = x.abs().add(0.1);
    const pv = v.map((z) => Math.abs(z) + 0.1);
    const tol = 1e-14;
    assertClose(x.neg(), v.map((z) => -z), 0, 0, 'neg');
    assertClose(x.abs(), v.map(Math.abs), 0, 0, 'abs');
    assertClose(x.exp(), v.map(Math.exp), 0, tol, 'exp');
    assertClose(p.log(), pv.map(Math.log), tol, tol, 'log');
    assertClose(p.sqrt(), pv.map(Math.sqrt), 0, tol, 'sqrt');
    assertClose(p.rsqrt(), pv.map((z) => 1 / Math.sqrt(z)), 0, tol, 'rsqrt');
    assertClose(x.reciprocal(), v.map((z) => 1 / z), 0, tol, 'reciprocal');
    assertClose(x.sigmoid(), v.map((z) => 1 / (1 + Math.exp(-z))), 0, tol, 'sigmoid');
    assertClose(x.tanh(), v.map(Math.tanh), tol, tol, 'tanh');
    assertClose(x.sin(), v.map(Math.sin), tol, tol, 'sin');
    assertClose(x.cos(), v.map(Math.cos), tol, tol, 'cos');
    assertClose(x.erf(), v.map(erf), 1e-14, 0, 'erf');
    assertClose(x.floor(), v.map(Math.floor), 0, 0, 'floor');
    assertClose(x.ceil(), v.map(Math.ceil), 0, 0, 'ceil');
    // Round half to even: -2.5 -> -2, 1.5 -> 2, 2.5 -> 2.
    assertClose(x.round(), [-2, -1, 0, 2, 2], 0, 0, 'round half to even');
    assertClose(x.sign(), [-1, -1, 1, 1, 1], 0, 0, 'sign');
    assertClose(x.relu(), v.map((z) => Math.max(z, 0)), 0, 0, 'relu');
    assertClose(x.silu(), v.map((z) => z / (1 + Math.exp(-z))), 0, tol, 'silu');
    assertClose(x.leakyRelu(0.1), v.map((z) => (z > 0 ? z : 0.1 * z)), 0, tol, 'leakyRelu');
    assertClose(x.leakyRelu(), v.map((z) => (z > 0 ? z : 0.01 * z)), 0, tol, 'leakyRelu default slope 0.01');
  }));

  it('activations: exact GELU (erf), tanh GELU, quickGelu, ELU, sigmoid (float64 closed forms)', () => noLeak(() => {
    const v = jsRandom(64, 7, -4, 4);
    const x = tensor(v, { dtype: 'float64' });
    const exact = v.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2)));
    const approx = v.map((z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))));
    assertClose(x.gelu(), exact, 1e-14, 1e-13, 'gelu exact (default)');
    assertClose(x.gelu('none'), exact, 1e-14, 1e-13, "gelu 'none'");
    assertClose(x.gelu('tanh'), approx, 1e-14, 1e-13, "gelu 'tanh'");
    // The two forms differ by up to ~5e-4: if 'approximate' were ignored one of the checks above fails,
    // but make sure the inputs are such that they are distinguishable at all.
    assert.ok(Math.max(...exact.map((e, i) => Math.abs(e - approx[i]!))) > 1e-4, 'test inputs separate exact and tanh GELU');
    assertClose(quickGelu(x), v.map((z) => z / (1 + Math.exp(-1.702 * z))), 1e-14, 1e-13, 'quickGelu');
    assertClose(x.elu(), v.map((z) => (z > 0 ? z : Math.exp(z) - 1)), 1e-14, 1e-13, 'elu alpha 1');
    assertClose(x.elu(0.5), v.map((z) => (z > 0 ? z : 0.5 * (Math.exp(z) - 1))), 1e-14, 1e-13, 'elu alpha 0.5');
    assertClose(x.sigmoid(), v.map((z) => 1 / (1 + Math.exp(-z))), 1e-15, 1e-14, 'sigmoid');
    // float32 exact GELU within float32 precision.
    assertClose(x.float().gelu(), exact, 2e-6, 1e-6, 'gelu float32');
  }));
});

describe('reductions', () => {
  const shape = [2, 3, 4];
  const sum = (a: number[]) => a.reduce((s, z) => s + z, 0);
  const mean = (a: number[]) => sum(a) / a.length;
  const varc = (c: number) => (a: number[]) => { const m = mean(a); return sum(a.map((z) => (z - m) ** 2)) / (a.length - c); };

  it('sum/mean over all dims (0-d result) and over dims with and without keepdim', () => noLeak(() => {
    const [x, v] = rnd(shape, 1, -1, 1, 'float64');
    const all = x.sum();
    assert.deepEqual(all.shape, [], 'sum() is 0-d');
    assertClose(all.item(), sum(v), 1e-12, 0, 'sum all');
    assertClose(x.mean().item(), mean(v), 1e-12, 0, 'mean all');
    for (const dims of [[0], [1], [2], [0, 2], [1, 2]]) {
      const s = reduceJs(v, shape, dims, sum);
      const m = reduceJs(v, shape, dims, mean);
      const k = x.sum(dims.length === 1 ? dims[0]! : dims, true);
      assert.deepEqual(k.shape, s.shape, `sum keepdim ${dims} shape`);
      assertClose(k, s.data, 1e-12, 0, `sum ${dims} keepdim`);
      const nk = x.mean(dims, false);
      assert.deepEqual(nk.shape, shape.filter((_, i) => !dims.includes(i)), `mean ${dims} shape without keepdim`);
      assertClose(nk, m.data, 1e-12, 0, `mean ${dims}`);
    }
    assertClose(x.sum(-1), reduceJs(v, shape, [2], sum).data, 1e-12, 0, 'negative dim');
    assert.equal(arange(0, 5).sum().item(), 10, 'integer sum');
  }));

  it('amax/amin/maxDim/minDim/argmax/argmin give the right values and indices', () => noLeak(() => {
    const [x, v] = rnd(shape, 2);
    const mx = (a: number[]) => Math.max(...a);
    const mn = (a: number[]) => Math.min(...a);
    assertClose(x.amax().item(), mx(v), 0, 0, 'amax all');
    assertClose(x.amin().item(), mn(v), 0, 0, 'amin all');
    assertClose(x.amax([0, 2], true), reduceJs(v, shape, [0, 2], mx).data, 0, 0, 'amax dims');
    assert.deepEqual(x.amax(1, true).shape, [2, 1, 4]);
    assertClose(x.amin(2), reduceJs(v, shape, [2], mn).data, 0, 0, 'amin dim');
    const [vals, idx] = x.maxDim(1);
    assert.deepEqual(vals.shape, [2, 4]);
    assert.equal(idx.dtype, 'int64');
    assertClose(vals, reduceJs(v, shape, [1], mx).data, 0, 0, 'maxDim values');
    const argmaxJs = reduceJs(v.map((_, i) => i), shape, [1], (ids) => ids.reduce((b, i) => (v[i]! > v[b]! ? i : b)));
    assert.deepEqual(idx.toArray(), argmaxJs.data.map((flat) => Math.floor(flat / 4) % 3), 'maxDim indices');
    assert.deepEqual(x.argmax(1).toArray(), idx.toArray(), 'argmax(dim) = maxDim indices');
    const [kv, ki] = x.maxDim(2, true);
    assert.deepEqual(kv.shape, [2, 3, 1], 'maxDim keepdim');
    assert.deepEqual(ki.shape, [2, 3, 1]);
    assert.equal(x.argmax().item(), v.indexOf(mx(v)), 'argmax over all = flat index');
    assert.equal(x.argmin().item(), v.indexOf(mn(v)), 'argmin over all = flat index');
    const [mnv, mni] = x.minDim(0);
    assertClose(mnv, reduceJs(v, shape, [0], mn).data, 0, 0, 'minDim values');
    assert.deepEqual(mni.toArray(), v.slice(0, 12).map((z, i) => (z <= v[12 + i]! ? 0 : 1)), 'minDim indices');
  }));

  it('std/variance with correction 0, 1 (default) and 2; norm with ord 2, 1, inf; logsumexp; cumsum', () => noLeak(() => {
    const [x, v] = rnd(shape, 3, -2, 2, 'float64');
    assertClose(x.variance().item(), varc(1)(v), 1e-12, 0, 'var default = Bessel');
    assertClose(x.std().item(), Math.sqrt(varc(1)(v)), 1e-12, 0, 'std default');
    assertClose(x.std(null, 0).item(), Math.sqrt(varc(0)(v)), 1e-12, 0, 'std correction 0');
    for (const c of [0, 1, 2]) {
      assertClose(x.variance(2, c), reduceJs(v, shape, [2], varc(c)).data, 1e-12, 0, `var dim 2 correction ${c}`);
      assertClose(x.std([0, 1], c, true), reduceJs(v, shape, [0, 1], (a) => Math.sqrt(varc(c)(a))).data, 1e-12, 0, `std dims correction ${c}`);
    }
    assert.deepEqual(x.std([0, 1], 1, true).shape, [1, 1, 4]);
    assertClose(x.norm().item(), Math.sqrt(sum(v.map((z) => z * z))), 1e-12, 0, 'norm 2');
    assertClose(x.norm(1).item(), sum(v.map(Math.abs)), 1e-12, 0, 'norm 1');
    assertClose(x.norm(Infinity).item(), Math.max(...v.map(Math.abs)), 0, 0, 'norm inf');
    assertClose(x.norm(2, -1, true), reduceJs(v, shape, [2], (a) => Math.sqrt(sum(a.map((z) => z * z)))).data, 1e-12, 0, 'norm dim');
    assertClose(x.logsumexp(1), reduceJs(v, shape, [1], (a) => Math.log(sum(a.map(Math.exp)))).data, 1e-12, 0, 'logsumexp');
    const cs = x.cumsum(2).toArray();
    for (let r = 0; r < 6; r++) {
      let acc = 0;
      for (let c = 0; c < 4; c++) { acc += v[r * 4 + c]!; assertClose(cs[r * 4 + c]!, acc, 1e-12, 0, 'cumsum'); }
    }
  }));
});

describe('linear algebra', () => {
  it('matmul (broadcast batch, matrix-vector), mm, bmm, linear and einsum match naive loops', () => noLeak(() => {
    const [a, av] = rnd([3, 4, 5], 10, -1, 1, 'float64');
    const [b, bv] = rnd([5, 6], 11, -1, 1, 'float64');
    const [c, cv] = rnd([3, 5, 6], 12, -1, 1, 'float64');
    const bRep = [...bv, ...bv, ...bv];
    const mm = a.matmul(b);
    assert.deepEqual(mm.shape, [3, 4, 6]);
    assertClose(mm, naiveBmm(av, bRep, 3, 4, 5, 6), 1e-12, 0, 'matmul broadcast');
    assertClose(a.bmm(c), naiveBmm(av, cv, 3, 4, 5, 6), 1e-12, 0, 'bmm');
    assertClose(a.select(0, 1).mm(b), naiveBmm(av.slice(20, 40), bv, 1, 4, 5, 6), 1e-12, 0, 'mm');
    const [vec, vv] = rnd([5], 13, -1, 1, 'float64');
    const mv = a.matmul(vec);
    assert.deepEqual(mv.shape, [3, 4], 'matrix @ vector drops the last dim');
    assertClose(mv, naiveBmm(av, vv, 1, 12, 5, 1), 1e-12, 0, 'matmul vector');
    // linear: x W^T + b
    const [w, wv] = rnd([6, 5], 14, -1, 1, 'float64');
    const [bias, biasv] = rnd([6], 15, -1, 1, 'float64');
    const wT = Array.from({ length: 30 }, (_, i) => wv[(i % 6) * 5 + Math.floor(i / 6)]!);
    const lin = naiveBmm(av, wT, 1, 12, 5, 6).map((z, i) => z + biasv[i % 6]!);
    assertClose(linear(a, w, bias), lin, 1e-12, 0, 'linear with bias');
    assertClose(linear(a, w), naiveBmm(av, wT, 1, 12, 5, 6), 1e-12, 0, 'linear without bias');
    // einsum: batched matmul, attention-style contraction over the last dims, and a channel mix.
    assertClose(einsum('bij,bjk->bik', a, c), naiveBmm(av, cv, 3, 4, 5, 6), 1e-12, 0, 'einsum bij,bjk->bik');
    const [k, kv] = rnd([3, 7, 5], 16, -1, 1, 'float64');
    const qk = einsum('bqc,bkc->bqk', a, k);
    assert.deepEqual(qk.shape, [3, 4, 7]);
    const expQk: number[] = [];
    for (let z = 0; z < 3; z++) for (let q = 0; q < 4; q++) for (let kk = 0; kk < 7; kk++) {
      let s = 0;
      for (let ch = 0; ch < 5; ch++) s += av[(z * 4 + q) * 5 + ch]! * kv[(z * 7 + kk) * 5 + ch]!;
      expQk.push(s);
    }
    assertClose(qk, expQk, 1e-12, 0, 'einsum bqc,bkc->bqk');
    const tr = einsum('bii->b', a.narrow(2, 0, 4));
    assertClose(tr, [0, 1, 2].map((z) => av[z * 20]! + av[z * 20 + 6]! + av[z * 20 + 12]! + av[z * 20 + 18]!), 1e-12, 0, 'einsum trace');
  }));

  it('linalgSolve and linalgInv on a batch of 128x128 well-conditioned float32 matrices (residuals in JS float64)', () => noLeak(() => {
    const n = 128;
    const B = 3;
    manualSeed(123);
    // A = M / sqrt(n) + 4 I: singular values within ~[2, 6], so the condition number is small.
    const A = randn([B, n, n]).div(Math.sqrt(n)).add(eye(n).mul(4));
    const rhs = randn([B, n, 2]);
    const X = linalgSolve(A, rhs);
    const Ainv = linalgInv(A);
    assert.deepEqual(X.shape, [B, n, 2]);
    assert.deepEqual(Ainv.shape, [B, n, n]);
    const av = A.toArray();
    const bv = rhs.toArray();
    const AX = naiveBmm(av, X.toArray(), B, n, n, 2);
    let r2 = 0;
    let b2 = 0;
    for (let i = 0; i < AX.length; i++) { r2 += (AX[i]! - bv[i]!) ** 2; b2 += bv[i]! ** 2; }
    assert.ok(Math.sqrt(r2 / b2) < 1e-5, `solve relative residual ${Math.sqrt(r2 / b2)}`);
    const AAinv = naiveBmm(av, Ainv.toArray(), B, n, n, n);
    let e2 = 0;
    for (let z = 0; z < B; z++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) e2 += (AAinv[(z * n + i) * n + j]! - (i === j ? 1 : 0)) ** 2;
    assert.ok(Math.sqrt(e2 / (B * n)) < 1e-5, `A inv(A) - I relative Frobenius ${Math.sqrt(e2 / (B * n))}`);
  }));
});

describe('shape and indexing', () => {
  it('reshape/view/permute/transpose/unsqueeze/squeeze/flatten/expand/repeat/contiguous', () => noLeak(() => {
    const x = arange(0, 24).reshape([2, 3, 4]);
    assert.deepEqual(x.shape, [2, 3, 4]);
    assert.deepEqual(x.view([6, -1]).shape, [6, 4], 'view with -1');
    const p = x.permute([2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    // p[k, i, j] = x[i, j, k] = 12 i + 4 j + k
    const pe: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) pe.push(12 * i + 4 * j + k);
    assert.deepEqual(p.toArray(), pe, 'permute values (toArray reads in logical order)');
    assert.deepEqual(p.contiguous().toArray(), pe, 'contiguous keeps values');
    assert.deepEqual(p.reshape([24]).toArray(), pe, 'reshape of a non-contiguous tensor');
    const t = x.transpose(0, 2);
    assert.deepEqual(t.shape, [4, 3, 2]);
    assert.equal(t.at(3, 1, 0).item(), 12 * 0 + 4 * 1 + 3, 'transpose element');
    assert.deepEqual(x.unsqueeze(1).shape, [2, 1, 3, 4]);
    assert.deepEqual(x.unsqueeze(-1).shape, [2, 3, 4, 1]);
    assert.deepEqual(x.unsqueeze(0).squeeze(0).shape, [2, 3, 4]);
    assert.deepEqual(x.flatten().shape, [24]);
    assert.deepEqual(x.flatten(1).shape, [2, 12]);
    assert.deepEqual(x.flatten(0, 1).shape, [6, 4]);
    const e = tensor([[1], [2]]).expand([2, 3]);
    assert.deepEqual(e.toArray(), [1, 1, 1, 2, 2, 2], 'expand');
    assert.deepEqual(tensor([[1, 2]]).expand([3, -1]).shape, [3, 2], 'expand -1 keeps the dim');
    assert.deepEqual(tensor([1, 2]).repeat([2, 2]).toArray(), [1, 2, 1, 2, 1, 2, 1, 2], 'repeat');
  }));

  it('slice/select/narrow/at()/unbind/diagonal give the right elements (negative indices, steps)', () => noLeak(() => {
    const x = arange(0, 24).reshape([2, 3, 4]);
    assert.deepEqual(x.slice(2, 1, 4, 2).toArray(), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23], 'slice with step');
    assert.deepEqual(x.slice(1, -1).toArray(), [8, 9, 10, 11, 20, 21, 22, 23], 'slice negative start');
    assert.deepEqual(x.slice(1, null, 2).shape, [2, 2, 4], 'slice with open start');
    assert.deepEqual(x.select(0, -1).toArray(), arange(12, 24).toArray(), 'select negative');
    assert.deepEqual(x.select(2, 0).toArray(), [0, 4, 8, 12, 16, 20], 'select last dim');
    assert.deepEqual(x.narrow(1, 1, 2).toArray(), [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23], 'narrow');
    assert.equal(x.at(1, 2, 3).item(), 23, 'at numbers');
    assert.deepEqual(x.at(1, [0, 2]).toArray(), [12, 13, 14, 15, 16, 17, 18, 19], 'at number + slice');
    assert.deepEqual(x.at(null, -1, [1, null, 2]).toArray(), [9, 11, 21, 23], 'at null + negative + stepped slice');
    assert.deepEqual(x.at(0, null, 1).toArray(), [1, 5, 9], 'at with null in the middle');
    assert.deepEqual(x.at().shape, [2, 3, 4], 'at() with no spec is a view of the whole');
    assert.throws(() => x.at(0, 0, 0, 0), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE', 'too many indices');
    const u = x.unbind(1);
    assert.equal(u.length, 3);
    assert.deepEqual(u[2]!.toArray(), [8, 9, 10, 11, 20, 21, 22, 23], 'unbind');
    assert.deepEqual(x.select(0, 0).diagonal().toArray(), [0, 5, 10], 'diagonal');
    assert.deepEqual(x.select(0, 0).diagonal(1).toArray(), [1, 6, 11], 'diagonal offset');
  }));

  it('index (tensor indices, null, bool mask), gather, scatter, scatterAdd, indexSelect', () => noLeak(() => {
    const x = arange(0, 12).reshape([3, 4]).float();
    assert.deepEqual(x.index([null, i64([3, 0])]).toArray(), [3, 0, 7, 4, 11, 8], 'index columns');
    assert.deepEqual(x.index([i64([2, 0]), i64([1, 3])]).toArray(), [9, 3], 'index pairs');
    assert.deepEqual(x.index([x.gt(8)]).toArray(), [9, 10, 11], 'bool mask index');
    const gi = i64([0, 3, 3, 1, 2, 2], [3, 2]);
    // gather dim 1: out[i][j] = x[i][idx[i][j]]
    assert.deepEqual(x.gather(1, gi).toArray(), [0, 3, 7, 5, 10, 10], 'gather dim 1');
    const gi0 = i64([2, 0, 1, 2], [1, 4]);
    assert.deepEqual(x.gather(0, gi0).toArray(), [8, 1, 6, 11], 'gather dim 0');
    // scatter dim 1: out[i][idx[i][j]] = src[i][j]
    const src = tensor([[100, 101], [102, 103], [104, 105]]);
    const si = i64([1, 2, 0, 3, 3, 0], [3, 2]);
    assert.deepEqual(zeros([3, 4]).scatter(1, si, src).toArray(), [0, 100, 101, 0, 102, 0, 0, 103, 105, 0, 0, 104], 'scatter src');
    assert.deepEqual(zeros([3, 4]).scatter(1, si, -1).toArray(), [0, -1, -1, 0, -1, 0, 0, -1, -1, 0, 0, -1], 'scatter value');
    const sa = zeros([3, 4]).scatterAdd(1, i64([1, 1, 0, 0, 3, 2], [3, 2]), src);
    assert.deepEqual(sa.toArray(), [0, 201, 0, 0, 205, 0, 0, 0, 0, 0, 105, 104], 'scatterAdd sums duplicates');
    assert.deepEqual(x.indexSelect(0, i64([2, 2, 0])).toArray(), [8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3], 'indexSelect dim 0');
    assert.deepEqual(x.indexSelect(1, i64([1])).toArray(), [1, 5, 9], 'indexSelect dim 1');
  }));

  it('topk/sort/argsort values and indices (largest and smallest, descending)', () => noLeak(() => {
    const [x, v] = rnd([3, 7], 20);
    for (let r = 0; r < 3; r++) {
      const row = v.slice(r * 7, r * 7 + 7);
      const order = row.map((_, i) => i).sort((p, q) => row[q]! - row[p]!);
      const [tv, ti] = x.select(0, r).topk(3);
      assert.deepEqual(ti.toArray(), order.slice(0, 3), `topk indices row ${r}`);
      assertClose(tv, order.slice(0, 3).map((i) => row[i]!), 0, 0, `topk values row ${r}`);
      const [sv, sidx] = x.select(0, r).topk(2, 0, false);
      assert.deepEqual(sidx.toArray(), order.slice(-2).reverse(), `topk smallest row ${r}`);
      assertClose(sv, order.slice(-2).reverse().map((i) => row[i]!), 0, 0, 'topk smallest values');
      const [dv, di] = x.select(0, r).sort(0, true);
      assert.deepEqual(di.toArray(), order, 'sort descending indices');
      assertClose(dv, order.map((i) => row[i]!), 0, 0, 'sort descending values');
      assert.deepEqual(x.select(0, r).argsort().toArray(), [...order].reverse(), 'argsort ascending');
    }
    const [tv2] = x.topk(2, 1);
    assert.deepEqual(tv2.shape, [3, 2], 'topk along dim 1');
    const [tv0] = x.topk(1, 0);
    assert.deepEqual(tv0.shape, [1, 7], 'topk along dim 0');
    assertClose(tv0, reduceJs(v, [3, 7], [0], (a) => Math.max(...a)).data, 0, 0, 'topk(1, 0) = column max');
  }));

  it('embedding picks weight rows; squeezeAll; to(cpu, dtype)', () => noLeak(() => {
    const w = arange(0, 12).reshape([4, 3]).float();
    const e = embedding(w, i64([3, 0, 3, 1], [2, 2]));
    assert.deepEqual(e.shape, [2, 2, 3]);
    assert.deepEqual(e.toArray(), [9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5], 'embedding rows');
    assert.deepEqual(squeezeAll(zeros([1, 3, 1, 2])).shape, [3, 2], 'squeezeAll');
    const d = tensor([1.5, 2]).to('cpu', 'float64');
    assert.equal(d.dtype, 'float64');
    assert.equal(d.device, 'cpu');
    assert.deepEqual(d.toArray(), [1.5, 2]);
  }));

  it('cat/stack/chunk/split/roll/flip/tril/triu', () => noLeak(() => {
    const a = arange(0, 6).reshape([2, 3]);
    const b = arange(6, 10).reshape([2, 2]);
    assert.deepEqual(cat([a, b], 1).toArray(), [0, 1, 2, 6, 7, 3, 4, 5, 8, 9], 'cat dim 1');
    assert.deepEqual(cat([a, a], 0).shape, [4, 3], 'cat dim 0');
    assert.deepEqual(cat([a, a], -1).shape, [2, 6], 'cat dim -1');
    const s = stack([a, a.mul(10)], 1);
    assert.deepEqual(s.shape, [2, 2, 3]);
    assert.deepEqual(s.toArray(), [0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50], 'stack dim 1');
    assert.deepEqual(stack([a, a]).shape, [2, 2, 3], 'stack default dim 0');
    const c = chunk(arange(0, 5), 2);
    assert.deepEqual(c.map((t) => t.toArray()), [[0, 1, 2], [3, 4]], 'chunk uneven');
    assert.deepEqual(arange(0, 12).reshape([3, 4]).chunk(2, 1).map((t) => t.shape), [[3, 2], [3, 2]], 'chunk dim 1');
    assert.deepEqual(split(arange(0, 5), 2).map((t) => t.toArray()), [[0, 1], [2, 3], [4]], 'split');
    const x = arange(0, 6).reshape([2, 3]);
    assert.deepEqual(x.roll(1).toArray(), [5, 0, 1, 2, 3, 4], 'roll without dims flattens');
    assert.deepEqual(x.roll(1, 1).toArray(), [2, 0, 1, 5, 3, 4], 'roll dim 1');
    assert.deepEqual(x.roll(-1, 1).toArray(), [1, 2, 0, 4, 5, 3], 'roll negative');
    assert.deepEqual(x.roll([1, 2], [0, 1]).toArray(), [4, 5, 3, 1, 2, 0], 'roll two dims');
    assert.deepEqual(x.flip([1]).toArray(), [2, 1, 0, 5, 4, 3], 'flip dim 1');
    assert.deepEqual(x.flip([0, 1]).toArray(), [5, 4, 3, 2, 1, 0], 'flip both');
    const sq = arange(1, 10).reshape([3, 3]);
    assert.deepEqual(sq.tril().toArray(), [1, 0, 0, 4, 5, 0, 7, 8, 9], 'tril');
    assert.deepEqual(sq.tril(-1).toArray(), [0, 0, 0, 4, 0, 0, 7, 8, 0], 'tril -1');
    assert.deepEqual(sq.triu(1).toArray(), [0, 2, 3, 0, 0, 6, 0, 0, 0], 'triu 1');
  }));

  it('pad (constant with value, reflect, replicate, circular; pairs from the last dim)', () => noLeak(() => {
    const x = tensor([[[1, 2, 3], [4, 5, 6]]]);
    assert.deepEqual(pad(x, [1, 2]).toArray(), [0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0], 'constant default 0');
    assert.deepEqual(pad(x, [0, 0, 1, 0], 'constant', 7).toArray(), [7, 7, 7, 1, 2, 3, 4, 5, 6], 'pads dim -2 with value');
    assert.deepEqual(pad(x, [1, 1], 'reflect').toArray(), [2, 1, 2, 3, 2, 5, 4, 5, 6, 5], 'reflect');
    assert.deepEqual(pad(x, [2, 1], 'replicate').toArray(), [1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6], 'replicate');
    assert.deepEqual(pad(x, [1, 1], 'circular').toArray(), [3, 1, 2, 3, 1, 6, 4, 5, 6, 4], 'circular');
    assert.deepEqual(pad(x, [-1, 0]).toArray(), [2, 3, 5, 6], 'negative pad crops');
  }));

  it('Tensor.unfold, im2col against a naive loop, col2im(im2col(x)) = x * overlap count', () => noLeak(() => {
    assert.deepEqual(arange(0, 7).unfold(0, 3, 2).toArray(), [0, 1, 2, 2, 3, 4, 4, 5, 6], 'unfold windows');
    const shape = [2, 3, 5, 6];
    const [x, v] = rnd(shape, 30);
    for (const [k, d, p, s] of [[[2, 2], [1, 1], [0, 0], [2, 2]], [[3, 2], [1, 2], [1, 0], [1, 2]], [[3, 3], [1, 1], [1, 1], [1, 1]]] as [number, number][][]) {
      const cols = im2col(x, k!, d!, p!, s!);
      const ref = naiveIm2col(v, shape, k!, d!, p!, s!);
      assert.deepEqual(cols.shape, ref.shape, `im2col shape k${k} d${d} p${p} s${s}`);
      assertClose(cols, ref.data, 0, 0, `im2col k${k} d${d} p${p} s${s}`);
      // col2im sums every patch back: col2im(im2col(x)) = x * (number of patches covering each pixel).
      const back = col2im(cols, [5, 6], k!, d!, p!, s!);
      const count = col2im(im2col(onesLike(x), k!, d!, p!, s!), [5, 6], k!, d!, p!, s!).toArray();
      // Count by brute force in JS: for each pixel, in how many patches does it appear.
      const hits = new Array<number>(numelOf(shape)).fill(0);
      const idxCols = naiveIm2col(v.map((_, i) => i + 1), shape, k!, d!, p!, s!).data; // 0 marks padding
      for (const id of idxCols) if (id > 0) hits[id - 1]! += 1;
      assertClose(count, hits, 0, 0, 'col2im overlap count');
      assertClose(back, v.map((z, i) => z * hits[i]!), 1e-6, 0, 'col2im(im2col(x))');
    }
  }));
});

describe('softmax and normalisation', () => {
  it('softmax/logSoftmax along each dim match a JS computation (float64, large logits stay finite)', () => noLeak(() => {
    const shape = [2, 3, 5];
    const [x, v] = rnd(shape, 40, -30, 30, 'float64');
    for (const dim of [0, 1, 2]) {
      assertClose(x.softmax(dim), naiveSoftmax(v, shape, dim), 1e-15, 1e-12, `softmax dim ${dim}`);
      assertClose(x.logSoftmax(dim), naiveSoftmax(v, shape, dim, true), 1e-12, 1e-12, `logSoftmax dim ${dim}`);
    }
    assertClose(x.softmax(-1), naiveSoftmax(v, shape, 2), 1e-15, 1e-12, 'softmax dim -1');
    const big = tensor([1000, 1001, 1002]);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0]! + e[1]! + e[2]!;
    assertClose(big.softmax(0), e.map((q) => q / z), 1e-7, 0, 'softmax is max-shifted (no overflow)');
  }));

  it('layerNorm (1-D and 2-D normalized shape, with and without affine, eps 1e-5) matches JS', () => noLeak(() => {
    const shape = [2, 3, 8];
    const [x, v] = rnd(shape, 41, -3, 3, 'float64');
    const [w, wv] = rnd([8], 42, 0.5, 1.5, 'float64');
    const [b, bv] = rnd([8], 43, -0.5, 0.5, 'float64');
    assertClose(layerNorm(x, [8], w, b), naiveLayerNorm(v, 8, wv, bv), 1e-12, 1e-12, 'layerNorm affine');
    assertClose(layerNorm(x, [8]), naiveLayerNorm(v, 8, null, null), 1e-12, 1e-12, 'layerNorm no affine');
    // eps is honoured: a large eps shrinks the output noticeably.
    assertClose(layerNorm(x, [8], w, b, 0.5), naiveLayerNorm(v, 8, wv, bv, 0.5), 1e-12, 1e-12, 'layerNorm eps 0.5');
    const [w2, w2v] = rnd([3, 8], 44, 0.5, 1.5, 'float64');
    assertClose(layerNorm(x, [3, 8], w2, null), naiveLayerNorm(v, 24, w2v, null), 1e-12, 1e-12, 'layerNorm over [3, 8]');
    // A tiny-variance row: eps = 1e-5 is in the denominator, not 1e-12 or 0.
    const flat = tensor([[1, 1.001, 0.999, 1]], { dtype: 'float64' });
    assertClose(layerNorm(flat, [4]), naiveLayerNorm([1, 1.001, 0.999, 1], 4, null, null, 1e-5), 1e-10, 0, 'eps 1e-5 dominates tiny variance');
  }));

  it('groupNorm (groups over channels and space, per-channel affine, eps 1e-5) matches JS', () => noLeak(() => {
    const shape = [2, 6, 3, 4];
    const [x, v] = rnd(shape, 45, -2, 2, 'float64');
    const [w, wv] = rnd([6], 46, 0.5, 1.5, 'float64');
    const [b, bv] = rnd([6], 47, -0.5, 0.5, 'float64');
    for (const g of [1, 2, 3, 6]) {
      assertClose(groupNorm(x, g, w, b), naiveGroupNorm(v, shape, g, wv, bv), 1e-12, 1e-12, `groupNorm ${g} groups`);
    }
    assertClose(groupNorm(x, 2), naiveGroupNorm(v, shape, 2, null, null), 1e-12, 1e-12, 'groupNorm no affine');
    assertClose(groupNorm(x.float(), 3, w.float(), b.float()), naiveGroupNorm(v, shape, 3, wv, bv), 2e-5, 1e-5, 'groupNorm float32');
  }));
});

describe('attention', () => {
  it('attention(q, k, v, mask, scale) = softmax(q k^T * scale + mask) v, against JS (default scale 1/sqrt(d))', () => noLeak(() => {
    const [B, L, S, D] = [2, 3, 4, 5];
    const [q, qv] = rnd([B, L, D], 140, -1, 1, 'float64');
    const [k, kv] = rnd([B, S, D], 141, -1, 1, 'float64');
    const [v, vv] = rnd([B, S, D], 142, -1, 1, 'float64');
    const maskv = Array.from({ length: L * S }, (_, i) => (i % S > Math.floor(i / S) + 1 ? -Infinity : 0));
    const mask = tensor(maskv, { dtype: 'float64', shape: [L, S] });
    const ref = (scale: number, useMask: boolean) => {
      const out: number[] = [];
      for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) {
        const logits = Array.from({ length: S }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < D; c++) dot += qv[(b * L + i) * D + c]! * kv[(b * S + j) * D + c]!;
          return dot * scale + (useMask ? maskv[i * S + j]! : 0);
        });
        const p = naiveSoftmax(logits, [S], 0);
        for (let c = 0; c < D; c++) out.push(p.reduce((acc, pj, j) => acc + pj * vv[(b * S + j) * D + c]!, 0));
      }
      return out;
    };
    assertClose(attention(q, k, v), ref(1 / Math.sqrt(D), false), 1e-12, 1e-12, 'default scale, no mask');
    assertClose(attention(q, k, v, mask), ref(1 / Math.sqrt(D), true), 1e-12, 1e-12, 'additive -inf mask');
    assertClose(attention(q, k, v, null, 0.3), ref(0.3, false), 1e-12, 1e-12, 'explicit scale');
  }));
});

describe('convolution and pooling', () => {
  it('conv2d (bias, padding, stride, dilation, groups) matches a naive loop', () => noLeak(() => {
    const xs = [2, 4, 7, 6];
    const [x, xv] = rnd(xs, 50);
    const cases: { ws: number[]; o: { stride?: [number, number]; padding?: [number, number]; dilation?: [number, number]; groups?: number }; bias: boolean }[] = [
      { ws: [5, 4, 3, 3], o: {}, bias: true },
      { ws: [6, 2, 3, 3], o: { padding: [1, 1], groups: 2 }, bias: true },
      { ws: [4, 1, 3, 3], o: { padding: [1, 1], groups: 4 }, bias: false }, // depthwise
      { ws: [3, 4, 3, 2], o: { stride: [2, 1], padding: [1, 0] }, bias: true },
      { ws: [2, 4, 2, 2], o: { dilation: [2, 2], stride: [2, 2], padding: [1, 1] }, bias: true },
      { ws: [8, 4, 1, 1], o: {}, bias: true },
    ];
    cases.forEach(({ ws, o, bias }, ci) => {
      const [w, wv] = rnd(ws, 51 + ci);
      const [b, bv] = rnd([ws[0]!], 61 + ci);
      const ref = naiveConv2d(xv, xs, wv, ws, bias ? bv : null, o);
      const y = conv2d(x, w, bias ? b : null, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1);
      assert.deepEqual(y.shape, ref.shape, `conv2d case ${ci} shape`);
      assertClose(y, ref.data, 1e-5, 1e-5, `conv2d case ${ci} ${JSON.stringify(o)}`);
    });
  }));

  it('convTranspose2d (stride, padding, outputPadding, groups, k2s2 upsampling) matches a scatter loop', () => noLeak(() => {
    const xs = [2, 4, 5, 4];
    const [x, xv] = rnd(xs, 70);
    const cases: { ws: number[]; o: { stride?: [number, number]; padding?: [number, number]; outputPadding?: [number, number]; groups?: number } }[] = [
      { ws: [4, 3, 2, 2], o: { stride: [2, 2] } },
      { ws: [4, 2, 3, 3], o: { stride: [2, 2], padding: [1, 1], outputPadding: [1, 1] } },
      { ws: [4, 3, 3, 2], o: { stride: [1, 2], padding: [1, 0], groups: 2 } },
      { ws: [4, 5, 3, 3], o: {} },
    ];
    cases.forEach(({ ws, o }, ci) => {
      const [w, wv] = rnd(ws, 71 + ci);
      const G = o.groups ?? 1;
      const [b, bv] = rnd([ws[1]! * G], 81 + ci);
      const ref = naiveConvTranspose2d(xv, xs, wv, ws, bv, o);
      const y = convTranspose2d(x, w, b, o.stride ?? 1, o.padding ?? 0, o.outputPadding ?? 0, G);
      assert.deepEqual(y.shape, ref.shape, `convTranspose2d case ${ci} shape`);
      assertClose(y, ref.data, 1e-5, 1e-5, `convTranspose2d case ${ci} ${JSON.stringify(o)}`);
    });
  }));

  it('avgPool2d (default stride = kernel; padding with countIncludePad true/false) and maxPool2d', () => noLeak(() => {
    const shape = [2, 2, 6, 5];
    const [x, v] = rnd(shape, 90);
    const r1 = naiveAvgPool2d(v, shape, 2, 2, 0, true);
    const y1 = avgPool2d(x, 2);
    assert.deepEqual(y1.shape, r1.shape);
    assertClose(y1, r1.data, 1e-6, 0, 'avgPool2d k2');
    assertClose(avgPool2d(x, 3, 1, 1), naiveAvgPool2d(v, shape, 3, 1, 1, true).data, 1e-6, 0, 'avgPool2d k3 p1 (countIncludePad default true)');
    assertClose(avgPool2d(x, 3, 1, 1, false, false), naiveAvgPool2d(v, shape, 3, 1, 1, false).data, 1e-6, 0, 'avgPool2d k3 p1 countIncludePad false');
    assertClose(avgPool2d(x, 3, 2, 1, false, true), naiveAvgPool2d(v, shape, 3, 2, 1, true).data, 1e-6, 0, 'avgPool2d k3 s2 p1');
    const m = maxPool2d(x, 2);
    const mref: number[] = [];
    for (let p = 0; p < 4; p++) for (let oh = 0; oh < 3; oh++) for (let ow = 0; ow < 2; ow++) {
      let best = -Infinity;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) best = Math.max(best, v[(p * 6 + oh * 2 + i) * 5 + ow * 2 + j]!);
      mref.push(best);
    }
    assertClose(m, mref, 0, 0, 'maxPool2d k2');
  }));
});

describe('interpolate', () => {
  const shape = [2, 3, 5, 4];
  const sizes: [number, number][] = [[7, 9], [3, 2], [10, 8], [5, 4]];
  it('bilinear, align_corners false and true, up and down, matches PyTorch coordinate rules in JS', () => noLeak(() => {
    const [x, v] = rnd(shape, 100);
    for (const ac of [false, true]) for (const size of sizes) {
      const y = interpolate(x, { size, mode: 'bilinear', alignCorners: ac });
      assert.deepEqual(y.shape, [2, 3, ...size]);
      assertClose(y, naiveResize(v, shape, size, bilinearTaps(ac)), 1e-6, 0, `bilinear ac=${ac} ${size}`);
    }
    // The default alignCorners is false.
    assertClose(x.interpolate({ size: [7, 9], mode: 'bilinear' }), naiveResize(v, shape, [7, 9], bilinearTaps(false)), 1e-6, 0, 'bilinear default');
  }));

  it('bicubic (A = -0.75, edge clamped), align_corners false and true, matches a naive JS implementation', () => noLeak(() => {
    const [x, v] = rnd(shape, 101);
    for (const ac of [false, true]) for (const size of sizes) {
      const y = interpolate(x, { size, mode: 'bicubic', alignCorners: ac });
      assertClose(y, naiveResize(v, shape, size, bicubicTaps(ac)), 1e-5, 0, `bicubic ac=${ac} ${size}`);
    }
    // A = -0.5 (another common choice) gives measurably different values: the test can tell them apart.
    const y = interpolate(x, { size: [7, 9], mode: 'bicubic' }).toArray();
    const other = naiveResize(v, shape, [7, 9], bicubicTaps(false, -0.5));
    assert.ok(Math.max(...y.map((q, i) => Math.abs(q - other[i]!))) > 1e-3, 'A = -0.75 and -0.5 are distinguishable on this input');
  }));

  it('nearest by size and by scale factor (src = floor(dst * in / out)); alignCorners rejected for nearest', () => noLeak(() => {
    const [x, v] = rnd(shape, 102);
    for (const size of [[7, 9], [3, 2], [10, 8]] as [number, number][]) {
      assertClose(interpolate(x, { size }), naiveResize(v, shape, size, nearestTaps), 0, 0, `nearest ${size}`);
    }
    const s2 = interpolate(x, { scaleFactor: 2, mode: 'nearest' });
    assert.deepEqual(s2.shape, [2, 3, 10, 8]);
    assertClose(s2, naiveResize(v, shape, [10, 8], nearestTaps), 0, 0, 'nearest x2');
    const bl = interpolate(x, { scaleFactor: [2, 2], mode: 'bilinear' });
    assertClose(bl, naiveResize(v, shape, [10, 8], bilinearTaps(false)), 1e-6, 0, 'bilinear by scale factor 2');
    assert.throws(() => interpolate(x, { size: [3, 3], alignCorners: true }), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT');
    assert.throws(() => interpolate(x, {}), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT', 'neither size nor scale');
  }));
});

describe('losses and dropout', () => {
  it('binaryCrossEntropyWithLogits (none/mean/sum, weight, posWeight) equals the stable closed form', () => noLeak(() => {
    const shape = [3, 5];
    const [x, xv] = rnd(shape, 110, -8, 8, 'float64');
    const [y, yv] = rnd(shape, 111, 0, 1, 'float64'); // soft targets
    const [w, wv] = rnd([5], 112, 0.5, 2, 'float64');
    const [pw, pwv] = rnd([5], 113, 0.5, 3, 'float64');
    // l = (1 - y) x + (1 + (pw - 1) y) * log(1 + exp(-x)), weighted; log1p(exp(-x)) = max(-x,0) + log1p(exp(-|x|))
    const sp = (z: number) => Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    const l = xv.map((z, i) => (1 - yv[i]!) * z + sp(z));
    const lw = xv.map((z, i) => wv[i % 5]! * ((1 - yv[i]!) * z + (1 + (pwv[i % 5]! - 1) * yv[i]!) * sp(z)));
    const sum = (a: number[]) => a.reduce((s, q) => s + q, 0);
    assertClose(binaryCrossEntropyWithLogits(x, y, null, null, 'none'), l, 1e-12, 1e-12, 'none');
    assertClose(binaryCrossEntropyWithLogits(x, y).item(), sum(l) / l.length, 1e-12, 1e-12, 'mean (default)');
    assertClose(binaryCrossEntropyWithLogits(x, y, null, null, 'sum').item(), sum(l), 1e-12, 1e-12, 'sum');
    assertClose(binaryCrossEntropyWithLogits(x, y, w, pw, 'none'), lw, 1e-12, 1e-12, 'weight + posWeight');
    // Extreme logits stay finite (the log-sum-exp form).
    const ext = binaryCrossEntropyWithLogits(tensor([100, -100]), tensor([0, 1]), null, null, 'none');
    assertClose(ext, [100, 100], 1e-4, 0, 'extreme logits');
  }));

  it('crossEntropy: mean over non-ignored targets (default -100 and a custom ignoreIndex), class weights, sum, none, [N,C,H,W]', () => noLeak(() => {
    const [x, xv] = rnd([6, 4], 120, -3, 3, 'float64');
    const t = [0, 3, -100, 1, 2, -100];
    const ls = naiveSoftmax(xv, [6, 4], 1, true);
    const nll = t.map((c, i) => (c < 0 ? 0 : -ls[i * 4 + c]!));
    const valid = t.filter((c) => c >= 0).length;
    const sum = (a: number[]) => a.reduce((s, q) => s + q, 0);
    assertClose(crossEntropy(x, i64(t)).item(), sum(nll) / valid, 1e-12, 1e-12, 'mean over the 4 valid targets');
    assertClose(crossEntropy(x, i64(t), null, 'sum').item(), sum(nll), 1e-12, 1e-12, 'sum');
    assertClose(crossEntropy(x, i64(t), null, 'none'), nll, 1e-12, 1e-12, 'none: ignored positions are 0');
    const cw = [0.5, 1, 2, 3];
    const wnll = t.map((c, i) => (c < 0 ? 0 : cw[c]! * nll[i]!));
    const wsum = sum(t.map((c) => (c < 0 ? 0 : cw[c]!)));
    assertClose(crossEntropy(x, i64(t), tensor(cw, { dtype: 'float64' })).item(), sum(wnll) / wsum, 1e-12, 1e-12, 'weighted mean divides by the weight sum');
    // Custom ignore index 255 on [N, C, H, W] (segmentation layout).
    const [seg, sv] = rnd([2, 3, 2, 2], 121, -2, 2, 'float64');
    const lab = [0, 2, 255, 1, 255, 255, 2, 0];
    const lsm = naiveSoftmax(sv, [2, 3, 2, 2], 1, true);
    let acc = 0;
    let cnt = 0;
    lab.forEach((c, i) => {
      if (c === 255) return;
      const n = Math.floor(i / 4);
      const pix = i % 4;
      acc += -lsm[(n * 3 + c) * 4 + pix]!;
      cnt++;
    });
    assertClose(crossEntropy(seg, i64(lab, [2, 2, 2]), null, 'mean', 255).item(), acc / cnt, 1e-12, 1e-12, 'ignoreIndex 255 on NCHW');
  }));

  it('crossEntropy with label smoothing: (1 - e) * nll + e * mean over classes of -log p, ignored targets excluded', () => noLeak(() => {
    const [x, xv] = rnd([5, 3], 122, -3, 3, 'float64');
    const t = [2, -100, 0, 1, 1];
    const ls = naiveSoftmax(xv, [5, 3], 1, true);
    const e = 0.2;
    let acc = 0;
    t.forEach((c, i) => {
      if (c < 0) return;
      const smooth = -(ls[i * 3]! + ls[i * 3 + 1]! + ls[i * 3 + 2]!) / 3;
      acc += (1 - e) * -ls[i * 3 + c]! + e * smooth;
    });
    assertClose(crossEntropy(x, i64(t), null, 'mean', -100, e).item(), acc / 4, 1e-12, 1e-12, 'label smoothing 0.2');
  }));

  it('dropout: identity when not training; when training zeros ~p of the elements and scales the rest by 1/(1-p)', () => noLeak(() => {
    const [x, v] = rnd([4, 5], 130);
    assertClose(dropout(x, 0.5, false), v, 0, 0, 'train false is the identity');
    manualSeed(5);
    const n = 200_000;
    const p = 0.3;
    const y = dropout(ones([n]), p, true).toArray();
    const zeros_ = y.filter((q) => q === 0).length;
    // Binomial std of the zero fraction is sqrt(p(1-p)/n) ~ 1e-3: +-0.01 is 10 sigma.
    assert.ok(Math.abs(zeros_ / n - p) < 0.01, `zero fraction ${zeros_ / n}, expected ~${p}`);
    const kept = y.filter((q) => q !== 0);
    assertClose(kept, Math.fround(1 / (1 - p)), 1e-6, 0, 'kept values are scaled by 1/(1-p)');
    const m = y.reduce((s, q) => s + q, 0) / n;
    assert.ok(Math.abs(m - 1) < 0.02, `dropout keeps the mean (~1), got ${m}`);
  }));
});

describe('creation, dtypes and data access', () => {
  it('zeros/ones/full/arange/eye/*Like have the right shapes, dtypes and values', () => noLeak(() => {
    const z = zeros([2, 3]);
    assert.equal(z.dtype, 'float32');
    assert.deepEqual(z.shape, [2, 3]);
    assert.deepEqual(z.toArray(), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ones([3], 'int64').toArray(), [1, 1, 1]);
    assert.equal(ones([3], 'int64').dtype, 'int64');
    assert.deepEqual(full([2, 2], 2.5).toArray(), [2.5, 2.5, 2.5, 2.5]);
    assert.equal(full([1], 3, 'float64').dtype, 'float64');
    const ar = arange(0, 5);
    assert.equal(ar.dtype, 'int64', 'integer arange is int64');
    assert.deepEqual(ar.toArray(), [0, 1, 2, 3, 4]);
    assert.deepEqual(arange(2, 11, 3).toArray(), [2, 5, 8], 'arange step');
    const af = arange(0, 1, 0.25);
    assert.equal(af.dtype, 'float32', 'fractional arange is float');
    assert.deepEqual(af.toArray(), [0, 0.25, 0.5, 0.75]);
    assert.deepEqual(arange(0, 3, 1, 'float64').dtype, 'float64');
    assert.deepEqual(eye(3).toArray(), [1, 0, 0, 0, 1, 0, 0, 0, 1], 'eye');
    const x = tensor([[1, 2]], { dtype: 'float64' });
    assert.equal(zerosLike(x).dtype, 'float64');
    assert.deepEqual(zerosLike(x).shape, [1, 2]);
    assert.deepEqual(fullLike(x, 7).toArray(), [7, 7]);
    assert.deepEqual(onesLike(x).toArray(), [1, 1]);
  }));

  it('randn/rand/randint statistics and manualSeed determinism', () => noLeak(() => {
    manualSeed(42);
    const a = randn([100_000]).toArray();
    manualSeed(42);
    const b = randn([100_000]).toArray();
    assert.deepEqual(a.slice(0, 100), b.slice(0, 100), 'same seed gives the same samples');
    assert.ok(a.every((q, i) => q === b[i]), 'same seed gives identical samples throughout');
    manualSeed(43);
    const c = randn([100]).toArray();
    assert.notDeepEqual(c, a.slice(0, 100), 'another seed gives other samples');
    const mean = a.reduce((s, q) => s + q, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, q) => s + (q - mean) ** 2, 0) / (a.length - 1));
    // std of the sample mean is 1/sqrt(1e5) ~ 0.003; of the sample std ~ 0.0022.
    assert.ok(Math.abs(mean) < 0.02, `randn mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.02, `randn std ${sd}`);
    const u = rand([50_000]).toArray();
    assert.ok(u.every((q) => q >= 0 && q < 1), 'rand in [0, 1)');
    const um = u.reduce((s, q) => s + q, 0) / u.length;
    assert.ok(Math.abs(um - 0.5) < 0.01, `rand mean ${um}`);
    const ri = randint(3, 9, [10_000]);
    assert.equal(ri.dtype, 'int64');
    const rv = ri.toArray();
    assert.ok(rv.every((q) => Number.isInteger(q) && q >= 3 && q < 9), 'randint in [low, high)');
    assert.deepEqual([...new Set(rv)].sort(), [3, 4, 5, 6, 7, 8], 'randint hits every value');
  }));

  it('float16 and bfloat16 conversions: raw bits from data() and exact widening back (IEEE constants)', () => noLeak(() => {
    const vals = [1, 0.5, -2, 65504, 1 / 3, 2 ** -24, 1e-8, 70000];
    const h = tensor(vals).half();
    assert.equal(h.dtype, 'float16');
    // 1 = 0x3C00, 0.5 = 0x3800, -2 = 0xC000, max finite 65504 = 0x7BFF, 1/3 -> 0x3555,
    // 2^-24 = smallest subnormal 0x0001, 1e-8 underflows to 0, 70000 overflows to +inf 0x7C00.
    assert.deepEqual(Array.from(h.data<'float16'>()), [0x3c00, 0x3800, 0xc000, 0x7bff, 0x3555, 0x0001, 0x0000, 0x7c00], 'f16 bits');
    assert.deepEqual(h.toArray(), [1, 0.5, -2, 65504, 1365 / 4096, 2 ** -24, 0, Infinity], 'f16 widened via toArray');
    assert.deepEqual(h.float().toArray(), [1, 0.5, -2, 65504, 1365 / 4096, 2 ** -24, 0, Infinity], 'f16 -> float32');
    const bv = [1, -2, 0.5, 1 / 3, 1 + 2 ** -8, 1 + 3 * 2 ** -8];
    const bf = tensor(bv).toDType('bfloat16');
    // bf16 = top 16 bits of f32 rounded to nearest even: 1/3 (0x3EAAAAAB) -> 0x3EAB; 1 + 2^-8 is a
    // tie -> even 0x3F80; 1 + 3*2^-8 is a tie -> even 0x3F82.
    assert.deepEqual(Array.from(bf.data<'bfloat16'>()), [0x3f80, 0xc000, 0x3f00, 0x3eab, 0x3f80, 0x3f82], 'bf16 bits');
    assert.deepEqual(bf.float().toArray(), [1, -2, 0.5, 0.333984375, 1, 1 + 2 ** -6], 'bf16 -> float32');
    // Raw bits in, exact values out.
    const fromBits = fromBytes(Uint16Array.from([0x3c00, 0xbc00, 0x3555, 0x7bff]), 'float16', [2, 2]).float();
    assert.deepEqual(fromBits.toArray(), [1, -1, 1365 / 4096, 65504], 'fromBytes f16');
    const round = tensor([1.7, -1.7, 2.5]).long();
    assert.equal(round.dtype, 'int64');
    assert.deepEqual(round.toArray(), [1, -1, 2], 'float -> int truncates toward zero');
    assert.deepEqual(tensor([0, 0.5, -1]).bool().toArray(), [0, 1, 1], 'to bool');
    assert.equal(tensor([1, 2]).double().dtype, 'float64');
    assert.equal(tensor([1, 2]).int().dtype, 'int32');
    const same = tensor([1, 2]);
    const cast = same.cast('float32');
    assert.equal(cast.dtype, 'float32');
    assert.notEqual(cast.handle, same.handle, 'cast always copies');
    cast.fill_(0);
    assert.deepEqual(same.toArray(), [1, 2], 'cast copy is independent memory');
  }));

  it('data()/toArray()/item()/bytes() and tensor()/fromBytes() round trips, with errors for bad sizes', () => noLeak(() => {
    const a = tensor([1, 2, 3], { dtype: 'int64' });
    const d = a.data<'int64'>();
    assert.ok(d instanceof BigInt64Array, 'int64 data() is a BigInt64Array');
    assert.deepEqual(Array.from(d), [1n, 2n, 3n]);
    assert.deepEqual(a.toArray(), [1, 2, 3]);
    assert.ok(tensor([1.5]).data() instanceof Float32Array);
    assert.ok(tensor([1.5], { dtype: 'float64' }).data() instanceof Float64Array);
    assert.ok(tensor([1], { dtype: 'int32' }).data() instanceof Int32Array);
    assert.ok(tensor([true, false]).data() instanceof Uint8Array);
    assert.equal(tensor([true, false]).dtype, 'bool', 'booleans infer bool');
    assert.equal(scalar(2.5).item(), 2.5);
    assert.deepEqual(scalar(2.5).shape, []);
    assert.equal(tensor([7], { dtype: 'int64' }).item(), 7);
    assert.equal(tensor([3, 4]).gt(3).select(0, 1).item(), 1, 'bool item is 1');
    assert.throws(() => tensor([1, 2]).item(), 'item() of a 2-element tensor throws');
    // data() is a copy.
    const f = tensor([1, 2, 3]);
    const fd = f.data<'float32'>();
    fd[0] = 99;
    assert.equal(f.toArray()[0], 1, 'data() returns a copy');
    // Typed arrays infer their dtype; bytes() are the little-endian contents.
    assert.equal(tensor(Float64Array.from([1, 2])).dtype, 'float64');
    assert.equal(tensor(Int32Array.from([1, 2])).dtype, 'int32');
    assert.deepEqual(Array.from(tensor(Float32Array.from([1.5]))
      .bytes()), Array.from(new Uint8Array(Float32Array.from([1.5]).buffer)), 'bytes() little-endian');
    // fromBytes from a view with a non-zero byteOffset reads the right bytes.
    const backing = new ArrayBuffer(4 * 6);
    new Float32Array(backing).set([9, 9, 1, 2, 3, 4]);
    const view = new Uint8Array(backing, 8, 16);
    assert.deepEqual(fromBytes(view, 'float32', [2, 2]).toArray(), [1, 2, 3, 4], 'fromBytes honours byteOffset');
    const buf = Buffer.from(new Float64Array([0.25, -8]).buffer);
    assert.deepEqual(fromBytes(buf, 'float64', [2]).toArray(), [0.25, -8]);
    assert.throws(() => fromBytes(new Uint8Array(10), 'float32', [3]), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE', 'fromBytes size check');
    assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE', 'tensor() size check');
    assert.deepEqual(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).shape, [3, 2]);
    assert.deepEqual(tensor([[[1], [2]]]).shape, [1, 2, 1], 'nested arrays infer the shape');
    assert.equal(tensor([1, 2], { dtype: 'uint8' }).add(1).dtype, 'uint8');
  }));
});

describe('no hidden intermediates', () => {
  it('composite ops (cast, at, quickGelu, attention, interpolate, to, topk, chunk, in-place chains) leave only their results alive, outside any scope', () => {
    // Outside tidy nothing cleans up behind an op: an intermediate it forgets to dispose stays
    // live until GC. Regression: cast() and quickGelu() each leaked one intermediate.
    const x = randn([2, 3, 4, 4]);
    const m = randn([2, 3, 4]);
    const ops: Record<string, () => unknown> = {
      cast: () => x.cast('float64'), castSame: () => x.cast('float32'), at: () => x.at(1, [0, 2], null, 1), atAll: () => x.at(),
      quickGelu: () => quickGelu(x), attention: () => attention(m, m, m), bilinear: () => x.interpolate({ size: [5, 5], mode: 'bilinear' }),
      bicubic: () => interpolate(x, { size: [5, 5], mode: 'bicubic' }), float: () => x.float(), to: () => x.to('cpu'), topk: () => m.topk(2),
      chunk: () => m.chunk(2, 1), squeezeAll: () => squeezeAll(x), maxDim: () => m.maxDim(1), inplace: () => m.clone().add_(1).mul_(2).clamp_(0, 1),
    };
    for (const [name, f] of Object.entries(ops)) {
      const before = liveTensorCount();
      const r = f();
      dispose(r);
      assert.equal(liveTensorCount(), before, `${name} left ${liveTensorCount() - before} tensor(s) behind`);
    }
    x.dispose();
    m.dispose();
  });
});

describe('golden: CAT-Seg positional-embedding resize (clip_tiny fixtures)', () => {
  const goldenDir = process.env.AHS_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/fixtures/golden');
  const io = path.join(goldenDir, 'clip_tiny.io.safetensors');
  const weights = path.join(goldenDir, 'clip_tiny.weights.safetensors');
  const skip = existsSync(io) && existsSync(weights) ? false : `golden fixtures not found in ${goldenDir} (set AHS_GOLDEN_DIR)`;

  it('visual positional embedding grid resized bicubic (align_corners false, CLS row kept) is within 1e-4 of the reference', { skip }, () => noLeak(() => {
    const w = new SafetensorsFile(weights);
    const o = new SafetensorsFile(io);
    // The vision tower's table (OpenAI name `visual.positional_embedding`; the top-level
    // `positional_embedding` is the text tower's [context_length, width] table).
    const key = w.has('visual.positional_embedding') ? 'visual.positional_embedding' : 'positional_embedding';
    const pe = w.float(key);
    const ref = o.float('pos_embed_resized_384');
    const [n0, d] = pe.shape as [number, number];
    const [n1, d1] = ref.shape as [number, number];
    assert.equal(d, d1, 'embedding widths agree');
    const g0 = Math.round(Math.sqrt(n0 - 1));
    const g1 = Math.round(Math.sqrt(n1 - 1));
    assert.equal(g0 * g0 + 1, n0, 'source is CLS + square grid');
    assert.equal(g1 * g1 + 1, n1, 'target is CLS + square grid');
    const cls = pe.narrow(0, 0, 1);
    const grid = pe.narrow(0, 1, g0 * g0).permute([1, 0]).reshape([1, d, g0, g0]);
    const up = interpolate(grid, { size: [g1, g1], mode: 'bicubic', alignCorners: false });
    const out = cat([cls, up.reshape([d, g1 * g1]).permute([1, 0])], 0);
    assert.deepEqual(out.shape, ref.shape);
    // README: a correct fp32 implementation is within max |diff| <= 1e-4 of every F32 output.
    assertClose(out, ref, 1e-4, 0, 'pos_embed_resized vs golden');
    // And the naive JS bicubic agrees with the golden too (so both the engine and the JS reference are right).
    const js = naiveResize(grid.contiguous().toArray(), [1, d, g0, g0], [g1, g1], bicubicTaps(false));
    const refGrid = ref.narrow(0, 1, g1 * g1).permute([1, 0]).contiguous().toArray();
    assertClose(js, refGrid, 1e-4, 0, 'naive JS bicubic vs golden');
    // Bilinear would not pass: the test is sensitive to the resize mode.
    const bil = interpolate(grid, { size: [g1, g1], mode: 'bilinear', alignCorners: false }).reshape([d, g1 * g1]).permute([1, 0]);
    assert.ok(bil.sub(ref.narrow(0, 1, g1 * g1)).abs().amax().item() > 1e-3, 'bilinear differs from the golden bicubic');
    const ac = interpolate(grid, { size: [g1, g1], mode: 'bicubic', alignCorners: true }).reshape([d, g1 * g1]).permute([1, 0]);
    assert.ok(ac.sub(ref.narrow(0, 1, g1 * g1)).abs().amax().item() > 1e-3, 'align_corners true differs from the golden');
  }));
});
