// Small helpers that generated op wrappers call.
import { AhsError } from '../errors.js';
import type { DType } from './dtype.js';
import { native } from './native.js';

export type Reduction = 'none' | 'mean' | 'sum';

/** ATen's reduction enum: none 0, mean 1, sum 2. */
export function reductionCode(r: Reduction | undefined): number {
  if (r === undefined || r === 'mean') return 1;
  if (r === 'none') return 0;
  if (r === 'sum') return 2;
  throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`);
}

let defaultFloat: DType = 'float32';
/** The dtype of new floating tensors when none is given (float32 unless changed). */
export function defaultDType(): DType {
  return defaultFloat;
}
export function setDefaultDType(d: DType): void {
  defaultFloat = d;
}

let cudaCount: number | undefined;
/**
 * Validates a device string before it reaches libtorch, so that asking a CPU-only build for CUDA
 * gives a clear error instead of a dispatcher message. Returns it unchanged (undefined = default).
 */
export function checkDevice(device: string | undefined): string | undefined {
  if (device === undefined || device === 'cpu') return device;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new AhsError('AHS_ERR_DEVICE', `unknown device '${device}': use 'cpu', 'cuda' or 'cuda:N'`);
  cudaCount ??= native().info().cudaDeviceCount;
  if (cudaCount === 0) {
    throw new AhsError('AHS_ERR_DEVICE', `device '${device}' requested, but no CUDA device is available to this ahs-seg build (the addon links a CPU-only libtorch, or no GPU is visible); rebuild with LIBTORCH pointing at a CUDA build of libtorch`);
  }
  const idx = Number(m[1] ?? 0);
  if (idx >= cudaCount) throw new AhsError('AHS_ERR_DEVICE', `device '${device}' requested, but only ${cudaCount} CUDA device(s) are visible`);
  return device;
}
