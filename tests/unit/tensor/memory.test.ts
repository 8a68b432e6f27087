// Deterministic native memory (src/tensor/scope.ts, tensor.ts): scopes free what they made,
// returned and kept tensors survive, errors do not leak, disposed tensors cannot be used.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AhsError } from '../../../src/errors.js';
import {
  dispose, keep, liveTensorCount, memoryStats, ones, randn, tensor, tidy, tidyAsync, zeros, type Tensor,
} from '../../../src/tensor/index.js';
import { assertClose } from '../../helpers/assert_close.js';

const isDisposedError = (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_DISPOSED';

/** A real GC (the finalizer safety net is only observable after one). */
function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Ten cheap ops on 64 KB tensors, all inside one scope. */
function tenOps(x: Tensor, w: Tensor): number {
  return tidy(() => {
    const a = x.mul(1.5).add(0.25); // 2
    const b = a.sub(w).relu(); // 4
    const c = b.maximum(w).neg(); // 6
    const d = c.abs().clamp(0, 2); // 8
    return d.mul(w).sum().item(); // 10
  });
}

describe('scopes free native memory', () => {
  it('10,000 ops in tidy scopes return liveTensorCount to baseline and keep RSS flat', () => {
    const base = liveTensorCount();
    const x = keep(randn([128, 128])); // 64 KB each, like every intermediate below
    const w = keep(randn([128, 128]));
    // Warm-up: 1,000 ops so that the caching allocator, V8's heap and the op cache reach steady state.
    for (let i = 0; i < 100; i++) tenOps(x, w);
    assert.equal(liveTensorCount(), base + 2, 'warm-up scopes freed their tensors');
    const allocBefore = memoryStats().allocatedBytes;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) tenOps(x, w);
    const rssAfter = process.memoryUsage().rss;
    assert.equal(liveTensorCount(), base + 2, 'after 10,000 more ops only the two kept inputs are live');
    assert.equal(memoryStats().allocatedBytes, allocBefore, "the caching allocator's in-use bytes are back where they were");
    // Each op makes at least one tensor of up to 64 KB, so leaking the results of 10,000 ops would
    // grow RSS by hundreds of MB. 64 MB of slack absorbs what is not a leak: V8 heap growth and GC
    // timing for the 10,000 JS wrappers, malloc arena fragmentation and allocator caching.
    const growthMb = (rssAfter - rssBefore) / 2 ** 20;
    assert.ok(growthMb < 64, `RSS grew by ${growthMb.toFixed(1)} MB over 10,000 ops`);
    x.dispose();
    w.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('keep() survives tidy; returned tensors (bare, in arrays, objects and Maps) move to the parent scope', () => {
    const base = liveTensorCount();
    let kept!: Tensor;
    let temp!: Tensor;
    tidy(() => {
      temp = zeros([2]);
      kept = keep(ones([2]));
    });
    assert.equal(temp.isDisposed, true, 'an unreturned tensor is disposed with its scope');
    assert.equal(kept.isDisposed, false, 'a kept tensor survives its scope');
    assert.deepEqual(kept.toArray(), [1, 1]);

    let inner!: { a: Tensor; list: Tensor[]; nested: { deep: Tensor[] }; map: Map<string, Tensor> };
    let dropped!: Tensor;
    tidy(() => {
      inner = tidy(() => {
        dropped = ones([1]);
        return { a: ones([1]), list: [ones([2]), ones([3])], nested: { deep: [ones([4])] }, map: new Map([['k', ones([5])]]) };
      });
      assert.equal(dropped.isDisposed, true, 'inner scope disposed what it did not return');
      const all = [inner.a, ...inner.list, ...inner.nested.deep, inner.map.get('k')!];
      for (const t of all) assert.equal(t.isDisposed, false, 'returned tensors survive the inner scope');
      assert.equal(liveTensorCount(), base + 1 + all.length, 'only the kept and returned tensors are live');
    });
    const all = [inner.a, ...inner.list, ...inner.nested.deep, inner.map.get('k')!];
    for (const t of all) assert.equal(t.isDisposed, true, 'returned tensors moved to the outer scope and died with it');

    const top = tidy(() => [ones([1]), { t: zeros([1]) }] as const);
    assert.equal(top[0].isDisposed, false, 'a top-level tidy returns its result alive');
    dispose(top);
    assert.equal(top[0].isDisposed, true, 'dispose() frees tensors inside arrays');
    assert.equal(top[1].t.isDisposed, true, 'dispose() frees tensors inside objects');
    kept.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('tidy disposes on throw, and the error propagates', () => {
    const base = liveTensorCount();
    let made!: Tensor;
    assert.throws(() => tidy(() => {
      made = ones([3]);
      throw new Error('boom');
    }), /boom/);
    assert.equal(made.isDisposed, true, 'tensors of a throwing scope are disposed');
    assert.equal(liveTensorCount(), base);
    // An engine error inside nested scopes unwinds every scope.
    let outer!: Tensor;
    assert.throws(() => tidy(() => {
      outer = ones([2]);
      return tidy(() => ones([2, 3]).matmul(ones([2, 3])));
    }), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_NATIVE');
    assert.equal(outer.isDisposed, true);
    assert.equal(liveTensorCount(), base);
  });

  it('tidyAsync keeps what it returns and frees the rest, also on rejection', async () => {
    const base = liveTensorCount();
    let tmp!: Tensor;
    const r = await tidyAsync(async () => {
      tmp = ones([2]);
      await new Promise((res) => setTimeout(res, 1));
      return tmp.add(1);
    });
    assert.equal(tmp.isDisposed, true);
    assert.deepEqual(r.toArray(), [2, 2]);
    r.dispose();
    await assert.rejects(tidyAsync(async () => { tmp = ones([2]); throw new Error('async boom'); }), /async boom/);
    assert.equal(tmp.isDisposed, true, 'rejected async scope frees its tensors');
    assert.equal(liveTensorCount(), base);
  });

  it('a nested tidyAsync hands its result to the enclosing scope, which frees it', async () => {
    // Regression: tidyAsync did not move returned tensors to the parent scope, so a result of a
    // nested tidyAsync escaped every scope and leaked.
    const base = liveTensorCount();
    let inner!: Tensor;
    let kept!: Tensor;
    await tidyAsync(async () => {
      inner = await tidyAsync(async () => ones([2]));
      kept = await tidyAsync(async () => keep(ones([2])));
      await new Promise((res) => setTimeout(res, 1));
      assert.equal(inner.isDisposed, false, 'alive inside the outer scope');
    });
    assert.equal(inner.isDisposed, true, 'the outer scope disposed the nested result');
    assert.equal(kept.isDisposed, false, 'kept tensors still survive');
    kept.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('overlapping tidyAsync calls keep their own tensors: results equal a sequential run, nothing leaks', async () => {
    // Wrong here: with one global scope stack, a request that finishes first disposes tensors the
    // other request made while it was awaiting (or keeps them alive in the wrong scope).
    const base = liveTensorCount();
    const work = async (seed: number, delays: number[]): Promise<number[]> => tidyAsync(async () => {
      let x = tensor([seed, seed + 1, seed + 2]);
      for (const d of delays) {
        await new Promise((res) => setTimeout(res, d));
        x = x.mul(2).add(1); // tensors made between awaits, while the other request runs
      }
      return x.toArray();
    });
    const sequential = [await work(1, [1, 1, 1]), await work(10, [1, 1, 1])];
    // The first finishes while the second is still between awaits, and vice versa.
    const concurrent = await Promise.all([work(1, [5, 1, 8]), work(10, [1, 9, 1])]);
    assert.deepEqual(concurrent, sequential);
    assert.equal(liveTensorCount(), base, 'overlapping scopes leaked or double-freed tensors');
    // A tensor returned by one request survives while the other one closes its scope.
    let held!: Tensor;
    await tidyAsync(async () => {
      const slow = tidyAsync(async () => { await new Promise((res) => setTimeout(res, 10)); return ones([2]); });
      held = await tidyAsync(async () => ones([3]));
      const s = await slow;
      assert.equal(held.isDisposed, false, 'a sibling scope disposed a tensor it did not make');
      assert.equal(s.isDisposed, false);
    });
    assert.equal(held.isDisposed, true);
    assert.equal(liveTensorCount(), base);
  });

  it('a tidy given an async function throws and does not leave its scope on the stack', async () => {
    // Regression: the scope used to stay on the stack, so every later unscoped tensor was held in
    // a Set forever and the GC finalizer could never free it.
    assert.throws(() => tidy(() => (async () => 1)() as unknown as number), TypeError);
    const gc = forceGc();
    const base = liveTensorCount();
    for (let i = 0; i < 200; i++) ones([16]); // unscoped, unreferenced
    assert.equal(liveTensorCount(), base + 200);
    for (let i = 0; i < 5 && liveTensorCount() > base; i++) {
      gc();
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(liveTensorCount(), base, 'unreferenced unscoped tensors are collected by the GC finalizer');
  });
});

describe('disposed tensors', () => {
  it('use after dispose throws AHS_ERR_DISPOSED; dispose is idempotent; views stay valid', () => {
    const base = liveTensorCount();
    const t = tensor([1, 2, 3, 4]);
    const v = t.view([2, 2]);
    assert.equal(liveTensorCount(), base + 2);
    t.dispose();
    assert.equal(liveTensorCount(), base + 1, 'dispose frees exactly one handle');
    t.dispose();
    assert.equal(liveTensorCount(), base + 1, 'a second dispose is a no-op');
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), isDisposedError, 'op on a disposed tensor');
    assert.throws(() => t.toArray(), isDisposedError, 'data read of a disposed tensor');
    assert.throws(() => t.item(), isDisposedError, 'item of a disposed tensor');
    assert.throws(() => t.handle, isDisposedError, 'handle of a disposed tensor');
    assert.throws(() => t.requiresGrad_(true), isDisposedError);
    assert.equal(String(t), 'Tensor(disposed)');
    assertClose(v, [1, 2, 3, 4], 0, 0, 'a view keeps the storage alive after the base is disposed');
    v.dispose();
    assert.equal(liveTensorCount(), base);
  });
});
