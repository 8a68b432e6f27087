// Walks one top-level array of a large JSON file without building the whole document.
// PASCAL Context's trainval_merged.json (the Detail API annotations) is big enough that
// JSON.parse of it as one string can exceed V8's string limit; here each element of the array
// we want is parsed on its own and the other top-level values are only skipped over.

import { AhsError } from '../../errors.js';

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

class Scanner {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly source: string) {}

  fail(msg: string): never {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `JSON file '${this.source}': ${msg} (at byte ${this.pos})`);
  }

  ws(): void {
    while (this.pos < this.buf.length && WS.has(this.buf[this.pos]!)) this.pos++;
  }

  expect(ch: string): void {
    this.ws();
    if (this.buf[this.pos] !== ch.charCodeAt(0)) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  /** Skips a string starting at pos (on the opening quote). */
  skipString(): void {
    const b = this.buf;
    let p = this.pos + 1;
    while (p < b.length && b[p] !== 0x22) p += b[p] === 0x5c ? 2 : 1;
    if (p >= b.length) this.fail('unterminated string (truncated file?)');
    this.pos = p + 1;
  }

  /** Skips one value; returns its [start, end) byte range. */
  skipValue(): [number, number] {
    this.ws();
    const b = this.buf;
    const start = this.pos;
    const c = b[start];
    if (c === undefined) this.fail('unexpected end of file (truncated?)');
    if (c === 0x22) {
      this.skipString();
    } else if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (this.pos < b.length) {
        const d = b[this.pos]!;
        if (d === 0x22) {
          this.skipString();
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) {
            this.pos++;
            return [start, this.pos];
          }
        }
        this.pos++;
      }
      this.fail('unterminated object or array (truncated file?)');
    } else {
      while (this.pos < b.length && !WS.has(b[this.pos]!) && b[this.pos] !== 0x2c && b[this.pos] !== 0x7d && b[this.pos] !== 0x5d) this.pos++;
    }
    return [start, this.pos];
  }

  text(range: [number, number]): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + range[0], range[1] - range[0]).toString('utf8');
  }

  parse(range: [number, number]): unknown {
    try {
      return JSON.parse(this.text(range));
    } catch (err) {
      this.pos = range[0];
      return this.fail(`invalid JSON value: ${(err as Error).message}`);
    }
  }
}

/**
 * Calls `fn` with each element of the top-level `key` array of a JSON object, in file order.
 * Returns false when the object has no such key.
 */
export function forEachTopLevelItem(buf: Uint8Array, key: string, source: string, fn: (item: unknown) => void): boolean {
  const s = new Scanner(buf, source);
  s.expect('{');
  s.ws();
  if (buf[s.pos] === 0x7d) return false;
  for (;;) {
    s.ws();
    if (buf[s.pos] !== 0x22) s.fail('expected a key');
    const name = s.parse(s.skipValue());
    s.expect(':');
    if (name === key) {
      s.expect('[');
      s.ws();
      if (buf[s.pos] === 0x5d) return true;
      for (;;) {
        fn(s.parse(s.skipValue()));
        s.ws();
        const c = buf[s.pos++];
        if (c === 0x5d) return true;
        if (c !== 0x2c) {
          s.pos--;
          s.fail(`expected ',' or ']' in '${key}'`);
        }
      }
    }
    s.skipValue();
    s.ws();
    const c = buf[s.pos++];
    if (c === 0x7d) return false;
    if (c !== 0x2c) {
      s.pos--;
      s.fail("expected ',' or '}' after a top-level value");
    }
  }
}
