// Convenience methods that are compositions, not single ATen ops.
import { AhsError } from '../errors.js';
import type { DType, Device } from './dtype.js';
import { interpolate, to, type InterpolateMode } from './functional.js';
import { Tensor } from './tensor.js';
import './ops.gen.js';

declare module './tensor.js' {
  interface Tensor {
    float(): Tensor;
    double(): Tensor;
    half(): Tensor;
    long(): Tensor;
    int(): Tensor;
    bool(): Tensor;
    /** Moves to a device (and optionally converts the dtype). */
    to(device: Device, dtype?: DType): Tensor;
    /** F.interpolate on [N,C,H,W]. */
    interpolate(opts: { size?: [number, number]; scaleFactor?: number | [number, number]; mode?: InterpolateMode; alignCorners?: boolean }): Tensor;
    /** A copy with a different dtype even if it is the same one. */
    cast(dtype: DType): Tensor;
    /** Python-style indexing: numbers select, [start, end, step?] slice, null keeps a dim. */
    at(...spec: (number | null | [number | null, number | null, number?])[]): Tensor;
  }
}

Tensor.prototype.float = function () { return this.toDType('float32'); };
Tensor.prototype.double = function () { return this.toDType('float64'); };
Tensor.prototype.half = function () { return this.toDType('float16'); };
Tensor.prototype.long = function () { return this.toDType('int64'); };
Tensor.prototype.int = function () { return this.toDType('int32'); };
Tensor.prototype.bool = function () { return this.toDType('bool'); };
Tensor.prototype.to = function (device: Device, dtype?: DType) { return to(this, device, dtype); };
Tensor.prototype.interpolate = function (opts) { return interpolate(this, opts); };
Tensor.prototype.cast = function (dtype: DType) {
  const t = this.toDType(dtype);
  const c = t.clone();
  t.dispose();
  return c;
};

Tensor.prototype.at = function (...spec) {
  if (spec.length > this.rank) throw new AhsError('AHS_ERR_SHAPE', `at(): ${spec.length} indices for a rank-${this.rank} tensor`);
  // Apply from the last index so that earlier dims keep their positions.
  let cur: Tensor = this;
  const made: Tensor[] = [];
  for (let d = spec.length - 1; d >= 0; d--) {
    const s = spec[d];
    if (s === null || s === undefined) continue;
    const next = typeof s === 'number' ? cur.select(d, s) : cur.slice(d, s[0], s[1], s[2] ?? 1);
    made.push(next);
    cur = next;
  }
  if (made.length === 0) return this.view(this.shape);
  for (const t of made.slice(0, -1)) t.dispose();
  return cur;
};
