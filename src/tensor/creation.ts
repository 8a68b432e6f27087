// Tensors from JS data.
import { AhsError, fmtShape } from '../errors.js';
import { DTYPE_CODE, ITEMSIZE, type DType, type Device } from './dtype.js';
import { native } from './native.js';
import { checkDevice, defaultDType } from './op_support.js';
import { Tensor } from './tensor.js';

type Nested = number | boolean | Nested[];

function inferShape(v: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) { shape.push(cur.length); cur = cur[0] as Nested; }
  return shape;
}

function typedFor(dtype: DType, values: ArrayLike<number | boolean | bigint>): ArrayBufferView {
  switch (dtype) {
    case 'float32': return Float32Array.from(values as ArrayLike<number>);
    case 'float64': return Float64Array.from(values as ArrayLike<number>);
    case 'int32': return Int32Array.from(values as ArrayLike<number>);
    case 'int16': return Int16Array.from(values as ArrayLike<number>);
    case 'int8': return Int8Array.from(values as ArrayLike<number>);
    case 'uint8': return Uint8Array.from(values as ArrayLike<number>);
    case 'bool': return Uint8Array.from(values as ArrayLike<number>, (x) => (x ? 1 : 0));
    case 'int64': return BigInt64Array.from(values as ArrayLike<number>, (x) => BigInt(x as number | bigint));
    default: throw new AhsError('AHS_ERR_DTYPE', `tensor(): build ${dtype} tensors from raw bits with fromBytes(), or convert a float32 tensor`);
  }
}

/**
 * A tensor from nested arrays or a flat typed array. The dtype follows the data (Float32Array ->
 * float32, Int32Array -> int32, BigInt64Array -> int64, Uint8Array -> uint8, numbers -> float32).
 */
export function tensor(values: Nested | ArrayBufferView, opts: { shape?: number[]; dtype?: DType; device?: Device } = {}): Tensor {
  let shape: number[];
  let dtype: DType;
  let data: ArrayBufferView;
  if (ArrayBuffer.isView(values)) {
    const inferred: DType | undefined = values instanceof Float32Array ? 'float32' : values instanceof Float64Array ? 'float64'
      : values instanceof Int32Array ? 'int32' : values instanceof BigInt64Array ? 'int64' : values instanceof Int16Array ? 'int16'
      : values instanceof Int8Array ? 'int8' : values instanceof Uint8Array ? 'uint8' : undefined;
    if (inferred === undefined) {
      throw new AhsError('AHS_ERR_DTYPE', `tensor(): ${values.constructor.name} has no tensor dtype; use Float32Array, Float64Array, Int32Array, BigInt64Array, Int16Array, Int8Array or Uint8Array (or fromBytes for float16/bfloat16 bits)`);
    }
    dtype = opts.dtype ?? inferred;
    const n = (values as unknown as ArrayLike<number>).length;
    shape = opts.shape ?? [n];
    data = dtype === inferred ? values : typedFor(dtype, values as unknown as ArrayLike<number>);
  } else {
    shape = opts.shape ?? inferShape(values);
    const flat: (number | boolean)[] = Array.isArray(values) ? ((values as unknown[]).flat(Infinity as 1) as (number | boolean)[]) : [values];
    dtype = opts.dtype ?? (typeof flat[0] === 'boolean' ? 'bool' : defaultDType());
    data = typedFor(dtype, flat);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel * ITEMSIZE[dtype] !== data.byteLength) {
    throw new AhsError('AHS_ERR_SHAPE', `tensor(): ${data.byteLength / ITEMSIZE[dtype]} values do not fill shape ${fmtShape(shape)}`);
  }
  return new Tensor(native().fromBuffer(data, DTYPE_CODE[dtype], shape, checkDevice(opts.device)));
}

/** A tensor over raw little-endian bytes (any dtype, f16 and bf16 included). */
export function fromBytes(bytes: ArrayBufferView, dtype: DType, shape: number[], device?: Device): Tensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel * ITEMSIZE[dtype] !== bytes.byteLength) {
    throw new AhsError('AHS_ERR_SHAPE', `fromBytes(): ${bytes.byteLength} bytes do not hold ${dtype}${fmtShape(shape)} (${numel * ITEMSIZE[dtype]} bytes)`);
  }
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new Tensor(native().fromBuffer(u8, DTYPE_CODE[dtype], shape, checkDevice(device)));
}

/** A 0-d tensor. */
export function scalar(v: number, dtype: DType = defaultDType()): Tensor {
  return tensor([v], { dtype, shape: [] });
}
