// BackwardTape (activation checkpointing by staged backward) on a small graph with every shape of
// use: a boundary read inside two checkpointed stages and by the plain graph between them, two
// stages in a row, a stage over an output dim other than its input dim, an unused stage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackwardTape, liveTensorCount, manualSeed, randn, tidy, type Tensor } from '../../../src/tensor/index.js';

function run(tape: BackwardTape | null, w: Tensor, a: Tensor, x0: Tensor): void {
  tidy(() => {
    const chunked = (x: Tensor, dim: number, outDim: number, fn: (xc: Tensor, start: number) => Tensor) => (tape ? tape.chunked(x, dim, 2, outDim, fn) : fn(x, 0));
    const g = tape ? tape.boundary(a.mul(2)) : a.mul(2); // (5, 3): made before the staged part
    const h = x0.mul(w); // (5, 3): graph into w
    const hb = tape ? tape.boundary(h) : h;
    const s1 = chunked(hb, 0, 0, (xc, s) => xc.add(g.narrow(0, s, xc.size(0))).tanh()); // (5, 3)
    const mid = s1.mul(g).add(s1); // plain graph between stages, reads the boundary
    const s2 = chunked(mid, 0, 0, (xc, s) => xc.sigmoid().mul(w.narrow(0, s, xc.size(0))));
    const s3 = chunked(s2, 0, 1, (xc) => xc.transpose(0, 1).mul(3)); // (3, 5): class dim moves
    chunked(s2, 0, 0, (xc) => xc.exp()); // never used downstream: no gradient, no error
    const loss = s3.mul(s3).sum();
    if (tape) tape.backward(loss); else loss.backward();
  });
}

describe('BackwardTape', () => {
  // Wrong here: a stage's recomputation loses a path (the boundary's, the weight's), counts it
  // twice, or puts a chunk's gradient at the wrong offset when the output dim differs.
  it('gives the plain graph\'s gradients, and frees everything it held', () => {
    manualSeed(1);
    const w = randn([5, 3]).requiresGrad_(true), a = randn([5, 3]).requiresGrad_(true), x0 = randn([5, 3]);
    run(null, w, a, x0);
    const want = [w.grad!, a.grad!].map((g) => [...g.data<'float32'>()]);
    w.grad = null; a.grad = null;
    const before = liveTensorCount();
    const tape = new BackwardTape();
    run(tape, w, a, x0);
    assert.equal(liveTensorCount(), before + 0, 'the tape leaked tensors');
    const got = [w.grad!, a.grad!].map((g) => [...g.data<'float32'>()]);
    for (let k = 0; k < 2; k++) for (let i = 0; i < want[k]!.length; i++) assert.ok(Math.abs(got[k]![i]! - want[k]![i]!) < 1e-5, `grad ${k}[${i}]: ${got[k]![i]} vs ${want[k]![i]}`);
    assert.throws(() => tape.backward(x0), /backward\(\) called twice/);
    for (const t of [w, a, x0]) { t.grad = null; t.dispose(); }
  });
});
