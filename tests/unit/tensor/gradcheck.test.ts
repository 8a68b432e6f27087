// Autograd through every differentiable op the models use, checked against central finite
// differences in float64 (eps 1e-6, atol 1e-6): a failure means the op's backward (or the way
// the TypeScript wrapper passes its arguments) gives wrong gradients. Then the autograd
// mechanics: accumulation, noGrad, enableGrad, detach, grad = null, retainGraph.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attention, avgPool2d, binaryCrossEntropyWithLogits, cat, col2im, conv2d, convTranspose2d, crossEntropy, einsum, embedding, enableGrad, groupNorm, im2col,
  interpolate, isGradEnabled, layerNorm, linalgInv, linalgSolve, linear, noGrad, ones, pad, quickGelu, stack, tensor, eye,
} from '../../../src/tensor/index.js';
import { assertClose, noLeak } from '../../helpers/assert_close.js';
import { constant, gradcheck, leaf } from '../../helpers/gradcheck.js';

const i64 = (v: number[], shape?: number[]) => tensor(v, { dtype: 'int64', shape: shape ?? [v.length] });

describe('gradcheck helper', () => {
  it('detects a wrong gradient (x.detach() * x has autograd gradient x, true derivative 2x)', () => noLeak(() => {
    // If this did not throw, every gradcheck below could pass vacuously.
    assert.throws(() => gradcheck('wrong', (t) => t.detach().mul(t), [leaf([4], 99)]), /d\/d input 0/);
    // And it rejects checks whose numeric gradient is identically zero.
    assert.throws(() => gradcheck('zero', (t) => t.mul(0), [leaf([4], 98)]), /all zero/);
  }));
});

describe('gradcheck: elementwise', () => {
  it('add/sub/mul/div with broadcasting, Tensor and number overloads', () => noLeak(() => {
    const a = leaf([2, 3], 1);
    const b = leaf([3], 2);
    const c = leaf([2, 1], 3, 0.5, 1.5);
    gradcheck('add', (x, y) => x.add(y, 0.7), [a, b]);
    gradcheck('sub', (x, y) => x.sub(y), [a, c]);
    gradcheck('mul', (x, y) => x.mul(y), [a, b]);
    gradcheck('div', (x, y) => x.div(y), [a, c]);
    gradcheck('scalar ops', (x) => x.add(2).mul(3).sub(1).div(4).rsub(5), [a]);
  }));

  it('pow (scalar and tensor exponent), exp, log, sqrt, rsqrt', () => noLeak(() => {
    const pos = leaf([2, 3], 4, 0.5, 2);
    const e = leaf([2, 3], 5, -1, 2);
    gradcheck('pow scalar', (x) => x.pow(2.5), [pos]);
    gradcheck('pow tensor', (x, y) => x.pow(y), [pos, e]);
    gradcheck('exp', (x) => x.exp(), [e]);
    gradcheck('log', (x) => x.log(), [pos]);
    gradcheck('sqrt', (x) => x.sqrt(), [pos]);
    gradcheck('rsqrt', (x) => x.rsqrt(), [pos]);
  }));

  it('relu, gelu (exact), quickGelu, elu, sigmoid', () => noLeak(() => {
    const x = leaf([3, 5], 6, -3, 3);
    gradcheck('relu', (t) => t.relu(), [x]);
    gradcheck('gelu exact', (t) => t.gelu(), [x]);
    gradcheck('gelu tanh', (t) => t.gelu('tanh'), [x]);
    gradcheck('quickGelu', (t) => quickGelu(t), [x]);
    gradcheck('elu', (t) => t.elu(), [x]);
    gradcheck('elu alpha', (t) => t.elu(0.3), [x]);
    gradcheck('sigmoid', (t) => t.sigmoid(), [x]);
  }));

  it('maskedFill (gradient blocked where masked), softmax, logSoftmax', () => noLeak(() => {
    const x = leaf([3, 4], 7, -2, 2);
    const mask = tensor([[true, false, false, true]]);
    gradcheck('maskedFill', (t) => t.maskedFill(mask, -5), [x]);
    gradcheck('softmax dim 1', (t) => t.softmax(1), [x]);
    gradcheck('softmax dim 0', (t) => t.softmax(0), [x]);
    gradcheck('logSoftmax', (t) => t.logSoftmax(-1), [x]);
  }));
});

describe('gradcheck: reductions and linear algebra', () => {
  it('sum/mean (all and dims), amax, norm', () => noLeak(() => {
    const x = leaf([2, 3, 4], 8);
    gradcheck('sum all', (t) => t.sum(), [x]);
    gradcheck('sum dims keepdim', (t) => t.sum([0, 2], true), [x]);
    gradcheck('mean all', (t) => t.mean(), [x]);
    gradcheck('mean dim', (t) => t.mean(1), [x]);
    gradcheck('amax all', (t) => t.amax(), [x]);
    gradcheck('amax dim', (t) => t.amax(2), [x]);
    gradcheck('norm', (t) => t.norm(), [x]);
    gradcheck('norm dim', (t) => t.norm(2, -1), [x]);
  }));

  it('matmul, bmm, einsum, linear', () => noLeak(() => {
    const a = leaf([2, 3, 4], 9);
    const b = leaf([4, 5], 10);
    const c = leaf([2, 4, 2], 11);
    gradcheck('matmul broadcast', (x, y) => x.matmul(y), [a, b]);
    gradcheck('bmm', (x, y) => x.bmm(y), [a, c]);
    gradcheck('einsum bqc,bkc->bqk', (x, y) => einsum('bqc,bkc->bqk', x, y), [a, leaf([2, 3, 4], 12)]);
    gradcheck('einsum nchw,kc->nkhw', (x, y) => einsum('nchw,kc->nkhw', x, y), [leaf([1, 3, 2, 2], 13), leaf([2, 3], 14)]);
    gradcheck('linear', (x, w, bias) => linear(x, w, bias), [a, leaf([5, 4], 15), leaf([5], 16)]);
    gradcheck('linear no bias', (x, w) => linear(x, w), [a, leaf([5, 4], 17)]);
  }));

  it('linalgSolve and linalgInv on 4x4 (diagonally dominant) matrices', () => noLeak(() => {
    const A = leaf([4, 4], 18).detach().add(eye(4, 'float64').mul(3)).requiresGrad_(true);
    const B = leaf([4, 2], 19);
    gradcheck('linalgSolve', (a, b) => linalgSolve(a, b), [A, B]);
    gradcheck('linalgInv', (a) => linalgInv(a), [A]);
    const Ab = leaf([2, 4, 4], 20).detach().add(eye(4, 'float64').mul(3)).requiresGrad_(true);
    gradcheck('linalgInv batched', (a) => linalgInv(a), [Ab]);
  }));
});

describe('gradcheck: convolution, normalisation, resizing', () => {
  it('conv2d with padding, stride and groups (input, weight, bias)', () => noLeak(() => {
    const x = leaf([1, 4, 5, 5], 21);
    gradcheck('conv2d groups 2 pad 1', (i, w, b) => conv2d(i, w, b, 1, 1, 1, 2), [x, leaf([4, 2, 3, 3], 22), leaf([4], 23)]);
    gradcheck('conv2d stride 2', (i, w, b) => conv2d(i, w, b, 2, 0), [x, leaf([3, 4, 2, 2], 24), leaf([3], 25)]);
  }));

  it('convTranspose2d (k2 s2, and k3 s2 p1 with output padding)', () => noLeak(() => {
    const x = leaf([1, 3, 3, 3], 26);
    gradcheck('convTranspose2d k2s2', (i, w, b) => convTranspose2d(i, w, b, 2), [x, leaf([3, 2, 2, 2], 27), leaf([2], 28)]);
    gradcheck('convTranspose2d k3s2p1op1', (i, w, b) => convTranspose2d(i, w, b, 2, 1, 1), [x, leaf([3, 2, 3, 3], 29), leaf([2], 30)]);
  }));

  it('layerNorm and groupNorm (input, weight, bias)', () => noLeak(() => {
    const x = leaf([2, 3, 6], 31, -2, 2);
    gradcheck('layerNorm', (i, w, b) => layerNorm(i, [6], w, b), [x, leaf([6], 32, 0.5, 1.5), leaf([6], 33)]);
    const y = leaf([2, 4, 2, 3], 34, -2, 2);
    gradcheck('groupNorm', (i, w, b) => groupNorm(i, 2, w, b), [y, leaf([4], 35, 0.5, 1.5), leaf([4], 36)]);
  }));

  it('interpolate: bilinear (align_corners false and true), bicubic, nearest; avgPool2d', () => noLeak(() => {
    const x = leaf([1, 2, 3, 4], 37);
    gradcheck('bilinear ac false', (t) => interpolate(t, { size: [5, 7], mode: 'bilinear', alignCorners: false }), [x]);
    gradcheck('bilinear ac true', (t) => interpolate(t, { size: [5, 7], mode: 'bilinear', alignCorners: true }), [x]);
    gradcheck('bilinear down', (t) => interpolate(t, { size: [2, 3], mode: 'bilinear' }), [x]);
    gradcheck('bicubic', (t) => interpolate(t, { size: [6, 5], mode: 'bicubic', alignCorners: false }), [x]);
    gradcheck('bicubic ac true', (t) => interpolate(t, { size: [6, 5], mode: 'bicubic', alignCorners: true }), [x]);
    gradcheck('bicubic down', (t) => interpolate(t, { size: [2, 3], mode: 'bicubic' }), [x]);
    gradcheck('nearest', (t) => interpolate(t, { size: [6, 8] }), [x]);
    const y = leaf([1, 2, 4, 4], 38);
    gradcheck('avgPool2d k2', (t) => avgPool2d(t, 2), [y]);
    gradcheck('avgPool2d k3 s1 p1', (t) => avgPool2d(t, 3, 1, 1, false, false), [y]);
  }));
});

describe('gradcheck: shape and indexing', () => {
  it('pad, roll, im2col, col2im', () => noLeak(() => {
    const x = leaf([1, 2, 3, 4], 40);
    gradcheck('pad constant', (t) => pad(t, [1, 2, 0, 1], 'constant', 0.5), [x]);
    gradcheck('pad reflect', (t) => pad(t, [1, 1, 1, 1], 'reflect'), [x]);
    gradcheck('pad replicate', (t) => pad(t, [2, 0, 0, 1], 'replicate'), [x]);
    gradcheck('pad circular', (t) => pad(t, [1, 1, 1, 0], 'circular'), [x]);
    gradcheck('roll', (t) => t.roll([1, -2], [2, 3]), [x]);
    gradcheck('im2col', (t) => im2col(t, [2, 2], 1, 1, 1), [x]);
    const cols = leaf([1, 8, 6], 41); // 2 channels x 2x2 kernel, 6 patches of a 3x4 image with stride 1
    gradcheck('col2im', (t) => col2im(t, [3, 4], [2, 2], 1, 0, 1), [cols]);
  }));

  it('topk values, gather, scatter (self and src), indexSelect', () => noLeak(() => {
    const x = leaf([3, 5], 42);
    gradcheck('topk values', (t) => t.topk(2, 1)[0], [x]);
    gradcheck('topk smallest dim 0', (t) => t.topk(2, 0, false)[0], [x]);
    const gi = i64([0, 4, 4, 1, 2, 3], [3, 2]);
    gradcheck('gather', (t) => t.gather(1, gi), [x]);
    const si = i64([1, 3, 0, 2, 4, 0], [3, 2]);
    gradcheck('scatter', (t, s) => t.scatter(1, si, s), [x, leaf([3, 2], 43)]);
    gradcheck('indexSelect', (t) => t.indexSelect(0, i64([2, 0, 2])), [x]);
    gradcheck('index', (t) => t.index([null, i64([4, 1, 1])]), [x]);
  }));

  it('cat, stack, permute, reshape, transpose, slice, select, narrow, expand', () => noLeak(() => {
    const a = leaf([2, 3], 44);
    const b = leaf([2, 2], 45);
    gradcheck('cat', (x, y) => cat([x, y], 1), [a, b]);
    gradcheck('stack', (x, y) => stack([x, y], 0), [a, leaf([2, 3], 46)]);
    const c = leaf([2, 3, 4], 47);
    gradcheck('permute', (t) => t.permute([2, 0, 1]), [c]);
    gradcheck('reshape', (t) => t.permute([1, 0, 2]).reshape([3, 8]), [c]);
    gradcheck('transpose', (t) => t.transpose(0, 2), [c]);
    gradcheck('slice step', (t) => t.slice(2, 1, 4, 2), [c]);
    gradcheck('select + narrow', (t) => t.select(1, -1).narrow(1, 1, 2), [c]);
    gradcheck('at', (t) => t.at(null, [0, 2], 3), [c]);
    gradcheck('expand', (t) => t.unsqueeze(0).expand([3, 2, 3]), [a]);
  }));
});

describe('gradcheck: attention and embedding', () => {
  it('attention (q, k, v with an additive mask) and embedding (weight)', () => noLeak(() => {
    const mask = tensor([[0, -1e9, 0], [0, 0, -1e9]], { dtype: 'float64' });
    gradcheck('attention', (q, k, v) => attention(q, k, v, mask), [leaf([2, 2, 4], 60), leaf([2, 3, 4], 61), leaf([2, 3, 4], 62)]);
    gradcheck('embedding', (w) => embedding(w, i64([2, 0, 2], [3])), [leaf([4, 3], 63)]);
  }));
});

describe('gradcheck: losses', () => {
  it('binaryCrossEntropyWithLogits (mean, sum, none with weights)', () => noLeak(() => {
    const x = leaf([3, 4], 50, -4, 4);
    const y = constant([3, 4], 51, 0, 1);
    gradcheck('bce mean', (t) => binaryCrossEntropyWithLogits(t, y), [x]);
    gradcheck('bce sum', (t) => binaryCrossEntropyWithLogits(t, y, null, null, 'sum'), [x]);
    gradcheck('bce none weighted', (t) => binaryCrossEntropyWithLogits(t, y, constant([4], 52, 0.5, 2), constant([4], 53, 0.5, 3), 'none'), [x]);
  }));

  it('crossEntropy (ignore index, class weights, NCHW)', () => noLeak(() => {
    const x = leaf([5, 4], 54, -2, 2);
    const t = i64([0, 3, -100, 1, 2]);
    gradcheck('crossEntropy mean ignore', (i) => crossEntropy(i, t), [x]);
    gradcheck('crossEntropy weighted', (i) => crossEntropy(i, t, constant([4], 55, 0.5, 2)), [x]);
    gradcheck('crossEntropy label smoothing', (i) => crossEntropy(i, t, null, 'mean', -100, 0.1), [x]);
    gradcheck('crossEntropy NCHW 255', (i) => crossEntropy(i, i64([0, 2, 255, 1, 255, 1, 2, 0], [2, 2, 2]), null, 'mean', 255), [leaf([2, 3, 2, 2], 56)]);
  }));
});

describe('autograd mechanics', () => {
  it('gradients accumulate over two backward passes until cleared with grad = null', () => noLeak(() => {
    const x = tensor([1, -2, 3], { dtype: 'float64' }).requiresGrad_(true);
    assert.equal(x.grad, null, 'a fresh leaf has no grad');
    x.mul(x).sum().backward();
    assertClose(x.grad!, [2, -4, 6], 0, 0, 'd(sum x^2) = 2x');
    x.mul(3).sum().backward();
    assertClose(x.grad!, [5, -1, 9], 0, 0, 'second backward adds 3 to the stored grad (accumulation)');
    x.grad = null;
    assert.equal(x.grad, null, 'grad = null clears it');
    x.mul(3).sum().backward();
    assertClose(x.grad!, [3, 3, 3], 0, 0, 'after clearing, backward starts from zero');
    x.grad = tensor([10, 10, 10], { dtype: 'float64' });
    x.mul(2).sum().backward();
    assertClose(x.grad!, [12, 12, 12], 0, 0, 'backward accumulates onto an assigned grad');
  }));

  it('noGrad records no graph (requiresGrad false on results) and enableGrad re-enables it inside', () => noLeak(() => {
    const x = ones([2], 'float64').requiresGrad_(true);
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false, 'grad mode off inside noGrad');
      const inner = enableGrad(() => { assert.equal(isGradEnabled(), true); return x.mul(2); });
      assert.equal(inner.requiresGrad, true, 'enableGrad records inside noGrad');
      return x.mul(2).add(1);
    });
    assert.equal(isGradEnabled(), true, 'grad mode restored after noGrad');
    assert.equal(y.requiresGrad, false, 'results made under noGrad do not require grad');
    const z = x.mul(2);
    assert.equal(z.requiresGrad, true, 'results of a requires-grad input do');
    assert.equal(z.isLeaf, false, 'op results are not leaves');
    assert.equal(x.isLeaf, true);
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true, 'grad mode restored after a throw inside noGrad');
  }));

  it('detach cuts the graph and shares memory', () => noLeak(() => {
    const x = tensor([1, 2, 3], { dtype: 'float64' }).requiresGrad_(true);
    const d = x.detach();
    assert.equal(d.requiresGrad, false, 'detach result does not require grad');
    // y = sum(detach(x) * x): dy/dx = detach(x) (not 2x).
    d.mul(x).sum().backward();
    assertClose(x.grad!, [1, 2, 3], 0, 0, 'no gradient flows through the detached factor');
    noGrad(() => x.mul_(2));
    assertClose(d, [2, 4, 6], 0, 0, 'detach shares storage with the original');
  }));

  it('backward twice through one graph needs retainGraph', () => noLeak(() => {
    const x = tensor([1, 2], { dtype: 'float64' }).requiresGrad_(true);
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assertClose(x.grad!, [2 * Math.exp(1), 2 * Math.exp(2)], 1e-12, 0, 'retained graph backpropagates twice');
    const z = x.exp().sum();
    z.backward();
    assert.throws(() => z.backward(), 'a freed graph cannot be traversed again');
    // Non-scalar outputs need an explicit gradient.
    x.grad = null;
    x.mul(3).backward(tensor([1, -1], { dtype: 'float64' }));
    assertClose(x.grad!, [3, -3], 0, 0, 'backward with an explicit output gradient');
  }));
});
