// A tiny safetensors reader for tests (independent of src/io): 8-byte little-endian header
// length, a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__ },
// then the raw little-endian data. F16/BF16 are returned as float32 tensors via fromBytes().float().
import { readFileSync } from 'node:fs';
import { fromBytes, type DType, type Tensor } from '../../src/tensor/index.js';

export interface SafetensorsEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

const DTYPE_MAP: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

export class SafetensorsFile {
  readonly header: Record<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  readonly #buf: Buffer;
  readonly #dataStart: number;

  constructor(path: string) {
    this.#buf = readFileSync(path);
    const n = Number(this.#buf.readBigUInt64LE(0));
    const json = JSON.parse(this.#buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    this.metadata = (json.__metadata__ ?? {}) as Record<string, string>;
    delete json.__metadata__;
    this.header = json as Record<string, SafetensorsEntry>;
    this.#dataStart = 8 + n;
  }

  keys(): string[] {
    return Object.keys(this.header);
  }

  has(name: string): boolean {
    return name in this.header;
  }

  shape(name: string): number[] {
    return this.entry(name).shape.slice();
  }

  entry(name: string): SafetensorsEntry {
    const e = this.header[name];
    if (!e) throw new Error(`safetensors: no tensor '${name}' (have ${this.keys().join(', ')})`);
    return e;
  }

  /** The tensor in its stored dtype (copied into a fresh, aligned buffer). */
  raw(name: string): Tensor {
    const e = this.entry(name);
    const dtype = DTYPE_MAP[e.dtype];
    if (!dtype) throw new Error(`safetensors: unsupported dtype ${e.dtype}`);
    const [b, en] = e.data_offsets;
    const bytes = Uint8Array.from(this.#buf.subarray(this.#dataStart + b, this.#dataStart + en));
    return fromBytes(bytes, dtype, e.shape);
  }

  /** The tensor as float32 (F16/BF16 upcast exactly). */
  float(name: string): Tensor {
    const t = this.raw(name);
    if (t.dtype === 'float32') return t;
    const f = t.float();
    t.dispose();
    return f;
  }
}
