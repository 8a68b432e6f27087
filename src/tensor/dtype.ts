// dtypes and devices. The codes are the addon's (native/src/tensor_handle.cc kDTypes order).
import { AhsError } from '../errors.js';

export const DTYPES = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'uint8', 'bool', 'int16', 'int8'] as const;
export type DType = (typeof DTYPES)[number];

export const DTYPE_CODE: Record<DType, number> = Object.fromEntries(DTYPES.map((d, i) => [d, i])) as Record<DType, number>;

export const ITEMSIZE: Record<DType, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1, int16: 2, int8: 1,
};

export function dtypeFromCode(code: number): DType {
  const d = DTYPES[code];
  if (d === undefined) throw new AhsError('AHS_ERR_DTYPE', `unknown dtype code ${code}`);
  return d;
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

/** The typed array that holds a dtype's values in JS (f16/bf16 come back as their raw bits). */
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array
  : D extends 'float64' ? Float64Array
  : D extends 'int64' ? BigInt64Array
  : D extends 'int32' ? Int32Array
  : D extends 'int16' ? Int16Array
  : D extends 'int8' ? Int8Array
  : D extends 'float16' | 'bfloat16' ? Uint16Array
  : Uint8Array;

export type Device = 'cpu' | `cuda` | `cuda:${number}`;
