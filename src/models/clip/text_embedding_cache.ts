// Text embeddings are expensive (ADE-847 x 80 templates = 67,760 texts) and depend only on the
// text tower's weights and the exact text, so they are cached by (weights fingerprint, text):
// in memory, and optionally on disk in one append-only file per fingerprint. A record is
// [u32 text bytes][utf8 text][u32 dim][dim x f32]; a torn last record (a crash mid-append) is
// ignored and overwritten, so the file never needs a full rewrite.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class TextEmbeddingCache {
  readonly #mem = new Map<string, Float32Array>();
  readonly #file: string | null;
  #validBytes = 0;

  /** `dir` null keeps the cache in memory only. */
  constructor(readonly fingerprint: string, dir: string | null) {
    this.#file = dir ? join(dir, `${fingerprint}.bin`) : null;
    if (this.#file && existsSync(this.#file)) this.#load(this.#file);
  }

  get size(): number {
    return this.#mem.size;
  }

  get(text: string): Float32Array | undefined {
    return this.#mem.get(text);
  }

  /** Stores embeddings (and appends them to the disk file). */
  putMany(entries: [string, Float32Array][]): void {
    const fresh = entries.filter(([t]) => !this.#mem.has(t));
    for (const [t, v] of fresh) this.#mem.set(t, v);
    if (!this.#file || fresh.length === 0) return;
    const parts: Buffer[] = [];
    for (const [t, v] of fresh) {
      const tb = Buffer.from(t, 'utf8');
      const head = Buffer.alloc(4);
      head.writeUInt32LE(tb.length, 0);
      const dim = Buffer.alloc(4);
      dim.writeUInt32LE(v.length, 0);
      parts.push(head, tb, dim, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    }
    mkdirSync(join(this.#file, '..'), { recursive: true });
    const fd = openSync(this.#file, existsSync(this.#file) ? 'r+' : 'w');
    try {
      ftruncateSync(fd, this.#validBytes); // drop a torn tail before appending
      const buf = Buffer.concat(parts);
      writeSync(fd, buf, 0, buf.length, this.#validBytes);
      this.#validBytes += buf.length;
    } finally {
      closeSync(fd);
    }
  }

  #load(file: string): void {
    const b = readFileSync(file);
    let o = 0;
    while (o + 4 <= b.length) {
      const tl = b.readUInt32LE(o);
      if (o + 4 + tl + 4 > b.length) break;
      const text = b.toString('utf8', o + 4, o + 4 + tl);
      const dim = b.readUInt32LE(o + 4 + tl);
      const start = o + 8 + tl;
      if (start + 4 * dim > b.length) break;
      const v = new Float32Array(dim);
      Buffer.from(v.buffer).set(b.subarray(start, start + 4 * dim));
      this.#mem.set(text, v);
      o = start + 4 * dim;
    }
    this.#validBytes = o;
  }
}
