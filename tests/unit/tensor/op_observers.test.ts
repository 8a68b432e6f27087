// countFlops and profileOps, the two observers of every op call (AtenOp.call): the FLOPs of the
// dense ops by their formulas, per-op rows keyed by name or by input shapes (tensor lists joined
// with '+'), and nesting (an inner observer does not hide ops from the outer one).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cat, countFlops, linear, noGrad, ones, profileOps, tidy } from '../../../src/tensor/index.js';

describe('op observers', () => {
  it('countFlops: 2 M K N for matmul and linear, elementwise ops not counted', () => tidy(() => noGrad(() => {
    const a = ones([3, 4]), b = ones([4, 5]), w = ones([6, 4]);
    const { flops } = countFlops(() => { a.matmul(b); linear(a, w); a.add(1); });
    assert.equal(flops, 2 * 3 * 4 * 5 + 2 * 3 * 4 * 6);
  })));

  it('profileOps: one row per op (or op and shapes) with calls and FLOPs; nested observers both see every op', () => tidy(() => noGrad(() => {
    const a = ones([3, 4]), b = ones([4, 5]);
    let inner: ReturnType<typeof profileOps>['rows'] = [];
    const outerCount = countFlops(() => {
      const outer = profileOps(() => {
        a.matmul(b);
        inner = profileOps(() => { a.matmul(b); cat([a, a], 0); }, { byShape: true }).rows;
      });
      const mm = outer.rows.find((r) => r.key === 'aten::matmul');
      assert.ok(mm, `no aten::matmul row in ${outer.rows.map((r) => r.key).join(', ')}`);
      assert.equal(mm.calls, 2, 'the outer profile missed the op the inner one saw');
      assert.equal(mm.flops, 2 * 2 * 3 * 4 * 5);
      assert.ok(mm.ms >= 0);
    });
    assert.equal(outerCount.flops, 2 * 2 * 3 * 4 * 5, 'countFlops outside both profiles missed ops');
    const keys = inner.map((r) => r.key);
    assert.ok(keys.includes('aten::matmul [3,4] [4,5]'), keys.join(', '));
    assert.ok(keys.includes('aten::cat [3,4]+[3,4]'), keys.join(', '));
  })));
});
