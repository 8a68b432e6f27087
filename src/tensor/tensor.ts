// The Tensor: a JS handle on a libtorch tensor. Ops are methods generated from one table
// (ops.gen.ts, from tools/gen/ops.table.ts) plus the hand-written ones in this folder.
import { AhsError, fmtShape } from '../errors.js';
import { dtypeFromCode, type DType, type Device, type TypedArrayFor } from './dtype.js';
import { native, type Handle } from './native.js';
import { track } from './scope.js';

export class Tensor {
  /** Lets scope.ts recognise tensors without importing this module at runtime. */
  readonly __isTensor = true;
  #h: Handle | null;
  #shape: number[] | undefined;
  #dtype: DType | undefined;
  #device: string | undefined;

  /** Wraps an addon handle; use the creation functions (tensor, zeros, ...) instead. */
  constructor(h: Handle) {
    this.#h = h;
    track(this);
  }

  /** The addon handle; throws if the tensor was disposed. */
  get handle(): Handle {
    if (this.#h === null) throw new AhsError('AHS_ERR_DISPOSED', `tensor ${this.#describe()} was used after dispose()`);
    return this.#h;
  }

  #describe(): string {
    return this.#shape ? `${this.#dtype}${fmtShape(this.#shape)}` : '(unread)';
  }

  #meta(): void {
    const [d, shape, device] = native().meta(this.handle);
    this.#dtype = dtypeFromCode(d);
    this.#shape = shape;
    this.#device = device;
  }

  get shape(): number[] {
    if (!this.#shape) this.#meta();
    return this.#shape!.slice();
  }
  get dtype(): DType {
    if (!this.#dtype) this.#meta();
    return this.#dtype!;
  }
  get device(): Device {
    if (!this.#device) this.#meta();
    return this.#device! as Device;
  }
  get rank(): number {
    if (!this.#shape) this.#meta();
    return this.#shape!.length;
  }
  /** Size of one dimension; negative dims count from the end. */
  size(dim: number): number {
    if (!this.#shape) this.#meta();
    const s = this.#shape!;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new AhsError('AHS_ERR_SHAPE', `size(${dim}): tensor has shape ${fmtShape(s)}`);
    return s[d]!;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isDisposed(): boolean {
    return this.#h === null || !native().isLive(this.#h);
  }

  /** Frees the native memory now (idempotent). Views of this tensor stay valid. */
  dispose(): void {
    if (this.#h !== null) {
      native().dispose(this.#h);
      this.#h = null;
    }
  }

  /** A copy of the values as a typed array (C order). f16/bf16 come back as raw bits. */
  data<D extends DType = DType>(): TypedArrayFor<D> {
    const buf = native().toBuffer(this.handle);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    switch (this.dtype) {
      case 'float32': return new Float32Array(ab) as TypedArrayFor<D>;
      case 'float64': return new Float64Array(ab) as TypedArrayFor<D>;
      case 'int64': return new BigInt64Array(ab) as TypedArrayFor<D>;
      case 'int32': return new Int32Array(ab) as TypedArrayFor<D>;
      case 'int16': return new Int16Array(ab) as TypedArrayFor<D>;
      case 'int8': return new Int8Array(ab) as TypedArrayFor<D>;
      case 'float16': case 'bfloat16': return new Uint16Array(ab) as TypedArrayFor<D>;
      default: return new Uint8Array(ab) as TypedArrayFor<D>;
    }
  }

  /** The raw little-endian bytes (contiguous). */
  bytes(): Buffer {
    return native().toBuffer(this.handle);
  }

  /** Values as plain numbers (int64 converted; f16/bf16 widened through float32). */
  toArray(): number[] {
    const d = this.dtype;
    if (d === 'float16' || d === 'bfloat16') return Array.from(this.float().data<'float32'>());
    const a = this.data();
    return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a as ArrayLike<number>);
  }

  /** The value of a one-element tensor. */
  item(): number {
    const v = native().item(this.handle);
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }

  /**
   * This JS tensor takes over `src`'s native tensor (its data, device, dtype and autograd state),
   * releasing its own; `src` is left disposed. Modules, optimizers and scopes that hold this object
   * keep holding it: Module.to moves parameters this way. (libtorch's set_data cannot move a
   * tensor between every pair of devices, e.g. to 'meta'.)
   */
  adopt_(src: Tensor): this {
    const h = src.handle;
    if (h === this.#h) return this;
    if (this.#h !== null) native().dispose(this.#h);
    this.#h = h;
    src.#h = null;
    this.#shape = src.#shape;
    this.#dtype = src.#dtype;
    this.#device = src.#device;
    return this;
  }

  // ---- autograd -------------------------------------------------------------------------

  get requiresGrad(): boolean {
    return native().meta(this.handle)[3];
  }
  /** Marks a leaf tensor as a parameter to differentiate; returns this. */
  requiresGrad_(on = true): this {
    native().setRequiresGrad(this.handle, on);
    return this;
  }
  /** The accumulated gradient (a new handle on the same memory each call), or null. */
  get grad(): Tensor | null {
    const g = native().grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native().setGrad(this.handle, g === null ? null : g.handle);
  }
  get isLeaf(): boolean {
    return native().isLeaf(this.handle);
  }
  /** Back-propagates from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native().backward([this.handle], gradient ? [gradient.handle] : null, opts.retainGraph ?? false, opts.createGraph ?? false);
  }

  toString(): string {
    if (this.#h === null) return 'Tensor(disposed)';
    return `Tensor(${this.dtype}${fmtShape(this.shape)}, ${this.device})`;
  }
}
