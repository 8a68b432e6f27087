// The hand-off between the file readers in src/io and the tensor engine: plain bytes plus dtype
// and shape. Readers never interpret values, so they need no tensor library and can be tested on
// machines without libtorch.

import { check } from '../errors.js';

export type DTypeName =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** A dense tensor: contiguous C-order little-endian bytes, `data.byteLength = numel * itemsize`. */
export interface RawTensor {
  dtype: DTypeName;
  shape: number[];
  data: Buffer;
}

/** A tensor whose bytes are read from disk only when asked (state dicts can be GBs). */
export interface LazyTensor {
  readonly dtype: DTypeName;
  readonly shape: number[];
  read(): RawTensor;
}

export const DTYPE_ITEMSIZE: Record<DTypeName, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Product of the dims; 1 for a scalar. */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True for a list of non-negative safe integers, the only thing a tensor shape can be. */
export function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** A zero-offset Buffer of its own, so typed-array views of any element size are aligned. */
export function allocAligned(byteLength: number): Buffer {
  return Buffer.from(new ArrayBuffer(byteLength));
}

/** Reverses the bytes of every element in place (big-endian files). */
export function swapBytesInPlace(data: Buffer, itemsize: number): void {
  check(data.byteLength % itemsize === 0, 'AHS_ERR_DTYPE', () => `byte swap: ${data.byteLength} bytes is not a multiple of the item size ${itemsize}`);
  if (itemsize === 2) data.swap16();
  else if (itemsize === 4) data.swap32();
  else if (itemsize === 8) data.swap64();
}

export type WeightFormat = 'safetensors' | 'torch-zip' | 'torchscript' | 'pickle';

/**
 * Parameter name -> lazy tensor, in file order, plus where it came from. `notes` lists what was
 * skipped or chosen (non-tensor values, the sub-dict used), for the loader to log.
 */
export class StateDict extends Map<string, LazyTensor> {
  constructor(
    readonly path: string,
    readonly format: WeightFormat,
    readonly notes: string[] = [],
    readonly metadata: Record<string, string> = {},
  ) {
    super();
  }
}
