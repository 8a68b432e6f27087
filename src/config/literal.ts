// yacs `_decode_cfg_value`: a string value is run through Python's `ast.literal_eval` and kept as
// a string when that fails. detectron2 configs rely on it for `(384, )` in YAML (PyYAML reads it as
// a string) and for command-line overrides like `DATASETS.TEST ("ade20k_150_test_sem_seg",)`.
// This parses the subset of Python literals configs use: numbers, quoted strings, True/False/None
// (plus YAML's true/false/null), lists and tuples (both become arrays).

export type Literal = number | string | boolean | null | Literal[];

/** Parses `text` as a Python literal; `undefined` when it is not one (the caller keeps the string). */
export function parseLiteral(text: string): Literal | undefined {
  const p = new Parser(text);
  try {
    p.skipWs();
    const value = p.value();
    p.skipWs();
    return p.atEnd() ? value : undefined;
  } catch (e) {
    if (e instanceof NotALiteral) return undefined;
    throw e;
  }
}

class NotALiteral extends Error {}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;
const WORDS: Record<string, Literal> = { True: true, False: false, None: null, true: true, false: false, null: null };
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  skipWs(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  value(): Literal {
    const c = this.s[this.pos];
    if (c === '[') return this.sequence(']').items;
    if (c === '(') {
      // `(384)` is just 384 in Python; only a comma makes a tuple (`(384,)`, `(1, 2)`, `()`).
      const { items, sawComma } = this.sequence(')');
      return items.length === 1 && !sawComma ? items[0]! : items;
    }
    if (c === '"' || c === "'") return this.string(c);
    const rest = this.s.slice(this.pos);
    const num = NUMBER.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    const word = WORD.exec(rest);
    if (word && word[0] in WORDS) {
      this.pos += word[0].length;
      return WORDS[word[0]]!;
    }
    throw new NotALiteral();
  }

  private sequence(close: string): { items: Literal[]; sawComma: boolean } {
    this.pos++; // opening bracket
    const items: Literal[] = [];
    let sawComma = false;
    for (;;) {
      this.skipWs();
      if (this.s[this.pos] === close) {
        this.pos++;
        return { items, sawComma };
      }
      items.push(this.value());
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') {
        sawComma = true;
        this.pos++;
      } else if (c !== close) {
        throw new NotALiteral();
      }
    }
  }

  private string(quote: string): string {
    this.pos++;
    let out = '';
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++]!;
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.s[this.pos++];
        if (e === undefined || !(e in ESCAPES)) throw new NotALiteral();
        out += ESCAPES[e];
      } else {
        out += c;
      }
    }
    throw new NotALiteral(); // unterminated
  }
}
