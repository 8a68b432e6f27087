// Numeric comparison helpers for tensor tests. Expected values always come from JS (closed
// forms, naive loops, finite differences) or golden files, never from a torch run.
import assert from 'node:assert/strict';
import { liveTensorCount, tidy, Tensor } from '../../src/tensor/index.js';

export type NumLike = Tensor | ArrayLike<number> | number;

/** Plain numbers from a tensor (any dtype), a typed array, an array or a scalar. */
export function toNumbers(v: NumLike): number[] {
  if (v instanceof Tensor) return v.toArray();
  if (typeof v === 'number') return [v];
  return Array.from(v);
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise (NaN only matches NaN,
 * infinities must match exactly). A scalar `expected` is broadcast. When `actual` is a tensor
 * and `expected` a tensor, their shapes must also agree. The message names the worst element.
 */
export function assertClose(actual: NumLike, expected: NumLike, atol?: number, rtol?: number, msg?: string): void;
/** Short form without rtol: assertClose(actual, expected, atol, msg). */
export function assertClose(actual: NumLike, expected: NumLike, atol: number, msg: string): void;
export function assertClose(actual: NumLike, expected: NumLike, atol = 1e-5, rtolOrMsg: number | string = 0, message = ''): void {
  const rtol = typeof rtolOrMsg === 'number' ? rtolOrMsg : 0;
  const msg = typeof rtolOrMsg === 'string' ? rtolOrMsg : message;
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${msg}: shape ${JSON.stringify(actual.shape)} vs ${JSON.stringify(expected.shape)}`);
  }
  const a = toNumbers(actual);
  let e = toNumbers(expected);
  if (typeof expected === 'number') e = new Array<number>(a.length).fill(expected);
  assert.equal(a.length, e.length, `${msg}: ${a.length} values, expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(y) && Number.isNaN(x)) continue;
      assert.fail(`${msg}: element ${i} is ${x}, expected ${y}`);
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x === y) continue;
      assert.fail(`${msg}: element ${i} is ${x}, expected ${y}`);
    }
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > worstExcess) { worstExcess = excess; worst = i; }
  }
  if (worst >= 0) {
    const d = Math.abs(a[worst]! - e[worst]!);
    assert.fail(`${msg}: element ${worst} is ${a[worst]}, expected ${e[worst]} (|diff| ${d.toExponential(3)} > atol ${atol} + rtol ${rtol} * |expected|)`);
  }
}

/** Max |a - b| over all elements. */
export function maxAbsDiff(a: NumLike, b: NumLike): number {
  const x = toNumbers(a);
  const y = toNumbers(b);
  assert.equal(x.length, y.length, 'maxAbsDiff: length mismatch');
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Deterministic pseudo-random numbers in [lo, hi) (mulberry32), so JS-side data is reproducible. */
export function jsRandom(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(lo + (hi - lo) * u);
  }
  return out;
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Product of a shape. */
export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** erf(x) in plain JS to ~1e-15: Maclaurin series below 2.5, the erfc continued fraction above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc (Lentz), accurate for |x| >= 2.5.
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = ax + an * D; if (Math.abs(D) < tiny) D = tiny; D = 1 / D;
    C = ax + an / C; if (Math.abs(C) < tiny) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * Runs `fn` inside tidy() and asserts that the live native tensor count is back to its value
 * before the call: a failure means an op or module leaked tensors outside the scope.
 */
export function noLeak(fn: () => void, msg = 'live tensor count changed'): void {
  const before = liveTensorCount();
  tidy(fn);
  assert.equal(liveTensorCount(), before, msg);
}

/** Groups a row-major array along `dims` and reduces each group with `f` (keepdim layout). */
export function reduceJs(x: ArrayLike<number>, shape: number[], dims: number[], f: (vals: number[]) => number): { data: number[]; shape: number[] } {
  const outShape = shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const st = strides(shape);
  const ost = strides(outShape);
  const groups: number[][] = Array.from({ length: numelOf(outShape) }, () => []);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / st[d]!) % shape[d]!;
      if (!dims.includes(d)) o += c * ost[d]!;
    }
    groups[o]!.push(x[i]!);
  }
  return { data: groups.map(f), shape: outShape };
}
