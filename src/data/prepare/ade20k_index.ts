// The image list of ADE20K_2021_17_01/index_ade20k.pkl, the only part of it that
// prepare_ade20k_full.py uses: the parallel `folder` and `filename` sequences. The pickle is read
// with our own unpickler (src/io/pickle.ts, which runs no code). The sequences are Python lists
// of str in the files we know of; in case a release stores them as numpy arrays (object dtype,
// or fixed-width 'U'/'S' strings) those are decoded too. Other numpy arrays in the index (the
// large objectPresence matrix among them) are kept as undecoded bytes.

import { check } from '../../errors.js';
import { SET_STATE, unpickle, type GlobalResolver, type HasSetState } from '../../io/pickle.js';

class Dtype implements HasSetState {
  byteOrder = '=';
  constructor(readonly code: string) {}
  [SET_STATE](state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
}

/** A numpy array from _reconstruct + BUILD, kept only well enough to read strings out. */
class PickledArray implements HasSetState {
  dtype?: Dtype;
  data: unknown;
  [SET_STATE](state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata), or the 4-tuple without version.
    const s = Array.isArray(state) && state.length === 4 ? [1, ...state] : state;
    if (Array.isArray(s) && s[2] instanceof Dtype) {
      this.dtype = s[2];
      this.data = s[4];
    }
  }

  strings(): string[] | undefined {
    const code = this.dtype?.code ?? '';
    if (code === 'O' && Array.isArray(this.data)) return this.data.map((v) => String(v));
    const raw = Buffer.isBuffer(this.data) ? this.data : typeof this.data === 'string' ? Buffer.from(this.data, 'latin1') : undefined;
    const n = Number.parseInt(code.slice(1), 10);
    if (raw === undefined || !(n > 0)) return undefined;
    const strip = (s: string) => s.replace(/\0+$/, '');
    const out: string[] = [];
    if (code[0] === 'S') {
      for (let o = 0; o + n <= raw.length; o += n) out.push(strip(raw.toString('latin1', o, o + n)));
      return out;
    }
    if (code[0] !== 'U') return undefined;
    const be = this.dtype!.byteOrder === '>';
    for (let o = 0; o + 4 * n <= raw.length; o += 4 * n) {
      let s = '';
      for (let k = 0; k < n; k++) {
        const cp = be ? raw.readUInt32BE(o + 4 * k) : raw.readUInt32LE(o + 4 * k);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      out.push(s);
    }
    return out;
  }
}

const NP_CORE = new Set(['numpy.core.multiarray', 'numpy._core.multiarray']);
const resolver: GlobalResolver = (module, name) => {
  if (module === 'numpy' && name === 'dtype') return (args) => new Dtype(String(args[0]));
  if (NP_CORE.has(module) && name === '_reconstruct') return () => new PickledArray();
  return undefined;
};

function stringList(v: unknown, key: string, source: string): string[] {
  const list = v instanceof PickledArray ? v.strings() : Array.isArray(v) ? v.map((s) => (typeof s === 'string' ? s : String(s))) : undefined;
  check(list !== undefined, 'AHS_ERR_FILE_FORMAT', () => `${source}: '${key}' is not a list of strings; is this ADE20K_2021_17_01's index_ade20k.pkl?`);
  return list;
}

/** `folder[i]` / `filename[i]` of every image in the index. */
export function readAde20kIndex(bytes: Uint8Array, source: string): { folder: string[]; filename: string[] } {
  const index = unpickle(bytes, { source, resolvers: [resolver] });
  check(index instanceof Map, 'AHS_ERR_FILE_FORMAT', () => `${source}: the pickle is not a dict; is this ADE20K_2021_17_01's index_ade20k.pkl?`);
  for (const key of ['folder', 'filename']) {
    check(index.has(key), 'AHS_ERR_FILE_FORMAT', () => `${source}: no '${key}' entry (has ${[...index.keys()].map(String).join(', ')})`);
  }
  const folder = stringList(index.get('folder'), 'folder', source);
  const filename = stringList(index.get('filename'), 'filename', source);
  check(folder.length === filename.length, 'AHS_ERR_FILE_FORMAT', () => `${source}: ${folder.length} folders for ${filename.length} file names`);
  return { folder, filename };
}
