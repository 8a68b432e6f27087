// A minimal MATLAB level-5 .mat reader: enough for the numeric matrices of PASCAL Context's
// trainval/*.mat (`LabelMap`), read the way scipy.io.loadmat reads them. It understands the
// 128-byte header (either byte order), miCOMPRESSED elements (zlib, via node:zlib), miMATRIX
// headers (array flags, dimensions, name) and the numeric real part in any storage type
// (MATLAB stores a uint16 matrix as miUINT8 when the values fit). Cells, structs, sparse and
// char arrays are recognised and skipped; v7.3 files (HDF5) are refused with what to do.

import { inflateSync } from 'node:zlib';
import { AhsError, check } from '../../errors.js';

/** mxClass codes (the low byte of the array flags). */
const MX_CLASS: Record<number, string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single',
  8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const NUMERIC = new Set(['double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6;
const MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15;
const MI_SIZE: Record<number, number> = {
  [MI_INT8]: 1, [MI_UINT8]: 1, [MI_INT16]: 2, [MI_UINT16]: 2, [MI_INT32]: 4, [MI_UINT32]: 4,
  [MI_SINGLE]: 4, [MI_DOUBLE]: 8, [MI_INT64]: 8, [MI_UINT64]: 8,
};

export interface MatArray {
  name: string;
  /** MATLAB class: 'uint16', 'double', ... ('cell', 'struct', ... carry no data here). */
  mxClass: string;
  /** MATLAB dims, rows first. */
  dims: number[];
  /** Real part in MATLAB's column-major order, as numbers; empty for non-numeric classes. */
  data: Float64Array;
}

interface Element {
  type: number;
  body: DataView;
  /** Offset just past the element (with padding). */
  next: number;
}

class Reader {
  constructor(private readonly source: string, private readonly le: boolean) {}

  fail(msg: string): never {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `MAT file '${this.source}': ${msg}`);
  }

  /** One tag + body at `pos` of `view`; small-element format packs both in 8 bytes. */
  element(view: DataView, pos: number, topLevel: boolean): Element {
    if (pos + 8 > view.byteLength) this.fail(`truncated data element at byte ${pos}`);
    const first = view.getUint32(pos, this.le);
    if (first >>> 16 !== 0) {
      const n = first >>> 16;
      if (n > 4) this.fail(`small data element of ${n} bytes at byte ${pos}`);
      return { type: first & 0xffff, body: new DataView(view.buffer, view.byteOffset + pos + 4, n), next: pos + 8 };
    }
    const n = view.getUint32(pos + 4, this.le);
    if (pos + 8 + n > view.byteLength) this.fail(`data element at byte ${pos} claims ${n} bytes, ${view.byteLength - pos - 8} remain (truncated?)`);
    const body = new DataView(view.buffer, view.byteOffset + pos + 8, n);
    // Sub-elements are padded to 8 bytes; top-level elements follow each other as scipy reads them.
    const next = topLevel ? pos + 8 + n : pos + 8 + Math.ceil(n / 8) * 8;
    return { type: first, body, next: Math.min(next, view.byteLength) };
  }

  numbers(el: Element, what: string): Float64Array {
    const size = MI_SIZE[el.type];
    if (size === undefined) this.fail(`${what} stored as unsupported data type ${el.type}`);
    const n = Math.floor(el.body.byteLength / size);
    const out = new Float64Array(n);
    const v = el.body;
    for (let i = 0, o = 0; i < n; i++, o += size) {
      switch (el.type) {
        case MI_INT8: out[i] = v.getInt8(o); break;
        case MI_UINT8: out[i] = v.getUint8(o); break;
        case MI_INT16: out[i] = v.getInt16(o, this.le); break;
        case MI_UINT16: out[i] = v.getUint16(o, this.le); break;
        case MI_INT32: out[i] = v.getInt32(o, this.le); break;
        case MI_UINT32: out[i] = v.getUint32(o, this.le); break;
        case MI_SINGLE: out[i] = v.getFloat32(o, this.le); break;
        case MI_DOUBLE: out[i] = v.getFloat64(o, this.le); break;
        case MI_INT64: out[i] = Number(v.getBigInt64(o, this.le)); break;
        case MI_UINT64: out[i] = Number(v.getBigUint64(o, this.le)); break;
      }
    }
    return out;
  }

  matrix(body: DataView): MatArray {
    const flags = this.element(body, 0, false);
    if (flags.type !== MI_UINT32 || flags.body.byteLength < 8) this.fail('miMATRIX without array flags');
    const classCode = flags.body.getUint32(0, this.le) & 0xff;
    const mxClass = MX_CLASS[classCode] ?? `class ${classCode}`;
    const dimsEl = this.element(body, flags.next, false);
    if (dimsEl.type !== MI_INT32) this.fail('miMATRIX without dimensions');
    const dims = Array.from(this.numbers(dimsEl, 'dimensions'));
    const nameEl = this.element(body, dimsEl.next, false);
    const name = Buffer.from(nameEl.body.buffer, nameEl.body.byteOffset, nameEl.body.byteLength).toString('latin1');
    if (!NUMERIC.has(mxClass)) return { name, mxClass, dims, data: new Float64Array(0) };
    const numel = dims.reduce((a, b) => a * b, 1);
    if (numel === 0) return { name, mxClass, dims, data: new Float64Array(0) };
    const real = this.element(body, nameEl.next, false);
    const data = this.numbers(real, `'${name}'`);
    if (data.length !== numel) this.fail(`'${name}' has ${data.length} values for dims ${dims.join('x')}`);
    return { name, mxClass, dims, data };
  }
}

/** Every top-level variable of a level-5 MAT file. `source` names the file in errors. */
export function readMat(bytes: Uint8Array, source: string): Map<string, MatArray> {
  const fail = (msg: string): never => {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `MAT file '${source}': ${msg}`);
  };
  if (bytes.byteLength < 128) fail(`only ${bytes.byteLength} bytes, shorter than the 128-byte header`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, 116).toString('latin1');
  if (text.startsWith('MATLAB 7.3')) fail('is a v7.3 (HDF5) file; re-save it in MATLAB with save(..., \'-v7\')');
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (endian !== 'IM' && endian !== 'MI') fail(`no MATLAB 5.0 header (endian indicator '${endian}')`);
  const reader = new Reader(source, endian === 'IM');
  const out = new Map<string, MatArray>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 128;
  while (pos + 8 <= view.byteLength) {
    const el = reader.element(view, pos, true);
    pos = el.next;
    let matrix: DataView;
    if (el.type === MI_COMPRESSED) {
      let raw: Buffer;
      try {
        raw = inflateSync(Buffer.from(el.body.buffer, el.body.byteOffset, el.body.byteLength));
      } catch (err) {
        throw new AhsError('AHS_ERR_FILE_FORMAT', `MAT file '${source}': corrupt compressed element: ${(err as Error).message}`, { cause: err });
      }
      const inner = reader.element(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), 0, true);
      if (inner.type !== MI_MATRIX) continue;
      matrix = inner.body;
    } else if (el.type === MI_MATRIX) {
      matrix = el.body;
    } else {
      continue;
    }
    if (matrix.byteLength === 0) continue;
    const arr = reader.matrix(matrix);
    out.set(arr.name, arr);
  }
  return out;
}

/** A named 2-D numeric variable, transposed to row-major (height = MATLAB rows). */
export function matMatrix2d(vars: Map<string, MatArray>, name: string, source: string): { width: number; height: number; data: Float64Array; mxClass: string } {
  const v = vars.get(name);
  check(v !== undefined, 'AHS_ERR_FILE_FORMAT', () => `MAT file '${source}' has no variable '${name}' (has ${[...vars.keys()].join(', ') || 'none'})`);
  check(NUMERIC.has(v.mxClass) && v.dims.length === 2, 'AHS_ERR_FILE_FORMAT',
    () => `MAT file '${source}': '${name}' is a ${v.dims.join('x')} ${v.mxClass} array; expected a 2-D numeric matrix`);
  const [height, width] = v.dims as [number, number];
  const data = new Float64Array(width * height);
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) data[y * width + x] = v.data[x * height + y]!;
  return { width, height, data, mxClass: v.mxClass };
}
