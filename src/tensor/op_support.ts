// Small helpers that generated op wrappers call.
import { AhsError } from '../errors.js';
import type { DType } from './dtype.js';

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
