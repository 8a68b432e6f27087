// Where weight files meet the engine: lazy raw tensors from any supported format become
// Tensors, and Tensors are written back as safetensors (atomically).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fromBytes, keep, type DType, type Tensor } from '../tensor/index.js';
import type { LazyTensor, RawTensor } from './raw_tensor.js';
import { writeSafetensors } from './safetensors.js';
import { readStateDict } from './state_dict.js';

export function rawToTensor(raw: RawTensor): Tensor {
  return fromBytes(raw.data, raw.dtype as DType, raw.shape);
}

export interface LoadTensorsOptions {
  /** Keep only keys for which this returns true (others are never read from disk). */
  filter?: (key: string) => boolean;
  /** Upcast floating tensors (f16/bf16/f64) to float32, as the reference runs in fp32. */
  float32?: boolean;
}

/** Reads a weight file (safetensors, torch.save zip, TorchScript, pickle) into Tensors. */
export function loadTensors(path: string, opts: LoadTensorsOptions = {}): { tensors: Map<string, Tensor>; metadata: Record<string, string>; notes: string[] } {
  const sd = readStateDict(path);
  const tensors = new Map<string, Tensor>();
  for (const [k, lazy] of sd) {
    if (opts.filter && !opts.filter(k)) continue;
    tensors.set(k, keep(lazyToTensor(lazy, opts.float32 ?? false)));
  }
  return { tensors, metadata: sd.metadata, notes: sd.notes };
}

function lazyToTensor(lazy: LazyTensor, float32: boolean): Tensor {
  const t = rawToTensor(lazy.read());
  if (float32 && (t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64')) {
    const f = t.float();
    t.dispose();
    return f;
  }
  return t;
}

/** Writes tensors as safetensors (temp file + rename: an interrupted write never leaves a half file). */
export function saveTensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const raw = new Map<string, RawTensor>();
  for (const [k, t] of tensors) raw.set(k, { dtype: t.dtype, shape: t.shape, data: t.bytes() });
  writeSafetensors(path, raw, metadata);
}
