// The numpy objects that turn up in PyTorch/detectron2 checkpoints: numpy scalars (a learning
// rate or iteration kept as np.float64) and arrays (detectron2's model zoo `.pkl` weights, a
// pixel mean in a checkpoint). Arrays of the dtypes we have become tensors; any other dtype
// (object, string, uint16, complex...) stays an inert NumpyArray marked `unsupported`, which only
// becomes an error if someone asks for it as a tensor.

import { AhsError, check, fmtShape } from '../errors.js';
import { OpaqueObject, SET_STATE, expectIndex, type GlobalResolver, type HasSetState } from './pickle.js';
import { DTYPE_ITEMSIZE, allocAligned, numelOf, swapBytesInPlace, type DTypeName, type RawTensor } from './raw_tensor.js';
import { stridedCopy } from './strided_copy.js';

const NP_TO_DTYPE: Record<string, DTypeName> = {
  f4: 'float32', f2: 'float16', f8: 'float64', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', b1: 'bool',
};

/** `numpy.dtype('f8', False, True)`; BUILD then sets the byte order ('<', '>', '|', '='). */
export class NumpyDType implements HasSetState {
  byteOrder = '=';
  constructor(readonly code: string) {}
  [SET_STATE](state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
  get bigEndian(): boolean {
    return this.byteOrder === '>';
  }
  get itemsize(): number {
    return Number.parseInt(this.code.slice(1), 10) || 0;
  }
}

/** A numpy ndarray, made empty by `_reconstruct` and filled by BUILD (or by `_frombuffer`). */
export class NumpyArray implements HasSetState {
  dtype: DTypeName | null = null;
  shape: number[] = [];
  /** Why this array cannot be a tensor; undefined when it can. */
  unsupported?: string = 'numpy array without data';
  private raw: Buffer = Buffer.alloc(0);
  private fortran = false;
  private bigEndian = false;

  constructor(private readonly source: string) {}

  [SET_STATE](state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata), or the 4-tuple without version.
    const s = Array.isArray(state) && state.length === 4 ? [1, ...state] : state;
    check(Array.isArray(s) && s.length === 5, 'AHS_ERR_FILE_FORMAT', () => `${this.source}: corrupt pickle: numpy array state is not a 5-tuple`);
    this.init(s[4], s[2], s[1], Boolean(s[3]));
  }

  init(raw: unknown, dtype: unknown, shape: unknown, fortran: boolean): void {
    check(dtype instanceof NumpyDType, 'AHS_ERR_FILE_FORMAT', () => `${this.source}: corrupt pickle: numpy array without a dtype`);
    check(Array.isArray(shape), 'AHS_ERR_FILE_FORMAT', () => `${this.source}: corrupt pickle: numpy array shape is not a tuple`);
    this.shape = shape.map((d, i) => expectIndex(d, this.source, `numpy array dim ${i}`));
    this.fortran = fortran;
    this.bigEndian = dtype.bigEndian;
    const ours = NP_TO_DTYPE[dtype.code];
    if (ours === undefined) {
      this.unsupported = `numpy array of dtype '${dtype.code}' is not supported (supported: ${Object.keys(NP_TO_DTYPE).join(', ')})`;
      return;
    }
    // Python 2 pickles carry the bytes as a latin1 str.
    const bytes = Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw, 'latin1') : undefined;
    if (bytes === undefined) {
      this.unsupported = 'numpy array without a raw byte buffer';
      return;
    }
    const need = numelOf(this.shape) * DTYPE_ITEMSIZE[ours];
    check(bytes.byteLength === need, 'AHS_ERR_FILE_FORMAT',
      () => `${this.source}: corrupt pickle: numpy ${dtype.code} array ${fmtShape(this.shape)} needs ${need} bytes, has ${bytes.byteLength}`);
    this.dtype = ours;
    this.raw = bytes;
    this.unsupported = undefined;
  }

  /** The array as a dense C-order little-endian tensor (a copy). */
  read(): RawTensor {
    if (this.unsupported !== undefined || this.dtype === null) throw new AhsError('AHS_ERR_DTYPE', `${this.source}: ${this.unsupported}`);
    const itemsize = DTYPE_ITEMSIZE[this.dtype];
    let data: Buffer;
    if (this.fortran && this.shape.length > 1) {
      const stride: number[] = [];
      let s = 1;
      for (const d of this.shape) {
        stride.push(s);
        s *= d;
      }
      data = stridedCopy(this.raw, this.shape, stride, itemsize);
    } else {
      data = allocAligned(this.raw.byteLength);
      data.set(this.raw);
    }
    if (this.bigEndian) swapBytesInPlace(data, itemsize);
    return { dtype: this.dtype, shape: [...this.shape], data };
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** `numpy.core.multiarray.scalar(dtype, bytes)` -> number (bigint for big int64), boolean. */
function decodeScalar(dtype: NumpyDType, bytes: Buffer, source: string): unknown {
  const n = dtype.itemsize;
  check(bytes.byteLength >= n && n > 0, 'AHS_ERR_FILE_FORMAT', () => `${source}: corrupt pickle: numpy '${dtype.code}' scalar has ${bytes.byteLength} bytes`);
  const b = Buffer.from(bytes.subarray(0, n));
  if (dtype.bigEndian) b.reverse();
  const kind = dtype.code[0];
  if (kind === 'f' && n === 2) return halfToFloat(b.readUInt16LE(0));
  if (kind === 'f' && n === 4) return b.readFloatLE(0);
  if (kind === 'f' && n === 8) return b.readDoubleLE(0);
  if (kind === 'b' && n === 1) return b[0] !== 0;
  if ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(n)) {
    const big = n === 8 ? (kind === 'i' ? b.readBigInt64LE(0) : b.readBigUInt64LE(0)) : BigInt(kind === 'i' ? b.readIntLE(0, n) : b.readUIntLE(0, n));
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  return new OpaqueObject('numpy.core.multiarray.scalar', [dtype, b]);
}

const NP_CORE = new Set(['numpy.core.multiarray', 'numpy._core.multiarray']);
const NP_NUMERIC = new Set(['numpy.core.numeric', 'numpy._core.numeric']);

export const numpyResolver: GlobalResolver = (module, name) => {
  if (module === 'numpy' && name === 'dtype') {
    return (args) => new NumpyDType(String(args[0]));
  }
  if (NP_CORE.has(module) && name === '_reconstruct') {
    return (_args, ctx) => new NumpyArray(ctx.source);
  }
  if (NP_CORE.has(module) && name === 'scalar') {
    return (args, ctx) => {
      const [dtype, raw] = args;
      check(dtype instanceof NumpyDType, 'AHS_ERR_FILE_FORMAT', () => `${ctx.source}: corrupt pickle: numpy scalar without a dtype`);
      const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw), 'latin1');
      return decodeScalar(dtype, bytes, ctx.source);
    };
  }
  if (NP_NUMERIC.has(module) && name === '_frombuffer') {
    // Protocol 5 in-band arrays: _frombuffer(buffer, dtype, shape, order).
    return (args, ctx) => {
      const a = new NumpyArray(ctx.source);
      a.init(args[0], args[1], args[2], args[3] === 'F');
      return a;
    };
  }
  return undefined;
};
