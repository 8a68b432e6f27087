// CLIP's byte-level BPE tokenizer, an exact port of openai/CLIP `clip/simple_tokenizer.py`
// (SimpleTokenizer) and `clip/clip.py:tokenize`. Ids match the reference bit for bit, so text
// embeddings computed here can be compared with the PyTorch ones.
//
//   const tok = ClipTokenizer.default();
//   tok.tokenize(['A photo of a cat in the scene']);
//   // { ids: Int32Array(77) [49406, 320, 1125, 539, 320, 2368, 530, 518, 3562, 49407, 0, ...], shape: [1, 77] }

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { AhsError, check } from '../../errors.js';
import { clipClean, PY_REGEX_WHITESPACE_CLASS } from './text_cleaning.js';

/** The vocabulary shipped with the package (same file as openai/CLIP's). */
export const DEFAULT_VOCAB_URL = new URL('../../../assets/clip/bpe_simple_vocab_16e6.txt.gz', import.meta.url);

const SOT_TEXT = '<|startoftext|>';
const EOT_TEXT = '<|endoftext|>';
const END_OF_WORD = '</w>';
// merges = lines[1 : 49152-256-2+1]: the vocabulary holds 49152 - 256 - 2 merges after its header.
const N_MERGES = 49152 - 256 - 2;
// The BPE cache is unbounded in Python; a server sees unbounded distinct words, so cap it.
const MAX_CACHE = 1 << 16;
const MERGE_LINE_RE = /^[^\s]+ [^\s]+$/;

// The reference pattern (Python `regex`, IGNORECASE). `\s` is spelled out because JS's `\s`
// differs from Python's (see text_cleaning.ts); with flags `iu` the classes behave the same.
const TOKEN_RE = new RegExp(
  String.raw`<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|` +
    `[^${PY_REGEX_WHITESPACE_CLASS}\\p{L}\\p{N}]+`,
  'giu',
);

/**
 * GPT-2's reversible byte -> printable character table: printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100.. so BPE never sees whitespace or control characters.
 * Returned as [byte, char] pairs in the reference dict's insertion order (printable bytes first),
 * which is also the order of the first 256 vocabulary ids.
 */
function bytesToUnicode(): [number, string][] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const pairs: [number, string][] = [];
  for (let b = 0; b < 256; b++) if (printable(b)) pairs.push([b, String.fromCharCode(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) pairs.push([b, String.fromCharCode(256 + n++)]);
  return pairs;
}

export interface TokenizeOptions {
  /** Number of ids per row, including <|startoftext|> and <|endoftext|>; default 77. */
  contextLength?: number;
  /** Cut texts that are too long (last id becomes <|endoftext|>) instead of throwing; default false. */
  truncate?: boolean;
}

/** Row-major ids of shape [texts, contextLength], zero padded (the engine makes the tensor). */
export interface TokenizedBatch {
  ids: Int32Array;
  shape: [number, number];
}

let defaultTokenizer: ClipTokenizer | undefined;

function abbreviate(text: string): string {
  const cps = Array.from(text);
  if (cps.length <= 80) return JSON.stringify(text);
  return `${JSON.stringify(cps.slice(0, 50).join(''))}…${JSON.stringify(cps.slice(-20).join(''))} (${cps.length} characters)`;
}

export class ClipTokenizer {
  /** Id of <|startoftext|> (49406 for the CLIP vocabulary). */
  readonly sot: number;
  /** Id of <|endoftext|> (49407); CLIP's text encoder pools at its position. */
  readonly eot: number;
  /** Number of ids (49408). */
  readonly vocabSize: number;
  /** The file the vocabulary came from, for error messages. */
  readonly vocabPath: string;

  private readonly byteEncoder: string[];
  private readonly byteDecoder: Map<string, number>;
  private readonly encoder: Map<string, number>;
  private readonly decoder: (string | undefined)[];
  private readonly ranks: Map<string, number>; // 'first second' -> merge priority
  private readonly cache = new Map<string, string>();

  /** `merges` are the vocabulary lines 'first second', highest priority first. */
  private constructor(vocabPath: string, merges: string[]) {
    this.vocabPath = vocabPath;
    const byteTable = bytesToUnicode();
    this.byteEncoder = new Array<string>(256);
    this.byteDecoder = new Map();
    for (const [b, ch] of byteTable) {
      this.byteEncoder[b] = ch;
      this.byteDecoder.set(ch, b);
    }
    const vocab: string[] = byteTable.map(([, ch]) => ch);
    for (const [, ch] of byteTable) vocab.push(ch + END_OF_WORD);
    this.ranks = new Map();
    merges.forEach((line, rank) => {
      this.ranks.set(line, rank);
      vocab.push(line.replace(' ', ''));
    });
    vocab.push(SOT_TEXT, EOT_TEXT);
    // dict(zip(vocab, range)) keeps the last id of a duplicate; the decoder is its inverse.
    this.encoder = new Map();
    vocab.forEach((piece, id) => this.encoder.set(piece, id));
    this.decoder = new Array<string | undefined>(vocab.length);
    for (const [piece, id] of this.encoder) this.decoder[id] = piece;
    this.sot = this.encoder.get(SOT_TEXT)!;
    this.eot = this.encoder.get(EOT_TEXT)!;
    this.vocabSize = vocab.length;
    this.resetCache();
  }

  /** Reads a gzipped CLIP BPE merges file (default: the shipped bpe_simple_vocab_16e6.txt.gz). */
  static load(vocabPath: string = fileURLToPath(DEFAULT_VOCAB_URL)): ClipTokenizer {
    let raw: Buffer;
    try {
      raw = readFileSync(vocabPath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new AhsError(
        code === 'ENOENT' ? 'AHS_ERR_FILE_NOT_FOUND' : 'AHS_ERR_FILE_FORMAT',
        `cannot read the CLIP BPE vocabulary ${vocabPath}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    let text: string;
    try {
      text = gunzipSync(raw).toString('utf8');
    } catch (e) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `CLIP BPE vocabulary ${vocabPath} is not a gzip file: ${(e as Error).message}`, { cause: e });
    }
    // Only the header and the merges are used (the file has more lines); scan just those.
    const merges: string[] = [];
    let pos = text.indexOf('\n') + 1;
    for (let lineNo = 2; merges.length < N_MERGES; lineNo++) {
      check(pos > 0 && pos < text.length, 'AHS_ERR_FILE_FORMAT',
        () => `CLIP BPE vocabulary ${vocabPath} has ${merges.length} merges, expected ${N_MERGES} after the header line`);
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      const line = text.slice(pos, end);
      check(MERGE_LINE_RE.test(line), 'AHS_ERR_FILE_FORMAT',
        () => `CLIP BPE vocabulary ${vocabPath} line ${lineNo} should be two symbols separated by a space, got ${JSON.stringify(line)}`);
      merges.push(line);
      pos = end + 1;
    }
    return new ClipTokenizer(vocabPath, merges);
  }

  /** The shipped vocabulary, loaded once per process. */
  static default(): ClipTokenizer {
    defaultTokenizer ??= ClipTokenizer.load();
    return defaultTokenizer;
  }

  /** The text exactly as CLIP sees it before splitting: ftfy, HTML unescape, whitespace, lowercase. */
  clean(text: string): string {
    return clipClean(text);
  }

  /**
   * Byte-pair merges of one pre-token, already mapped through the byte table ('café' ->
   * 'cafÃ©'). Returns the pieces joined by spaces, the last one ending in '</w>'.
   */
  bpe(token: string): string {
    const hit = this.cache.get(token);
    if (hit !== undefined) return hit;
    let word = Array.from(token);
    if (word.length === 0) return END_OF_WORD;
    word[word.length - 1] += END_OF_WORD;
    if (word.length === 1) return word[0]!;
    for (;;) {
      // The adjacent pair that was merged earliest during training wins.
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (best === Infinity) break;
      // Merge every occurrence, left to right and non-overlapping, like the reference loop.
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word = merged;
      if (word.length === 1) break;
    }
    const out = word.join(' ');
    if (this.cache.size >= MAX_CACHE) this.resetCache();
    this.cache.set(token, out);
    return out;
  }

  /** BPE pieces of a text, in order (what `bpe(...).split(' ')` yields for every pre-token). */
  pieces(text: string): string[] {
    // Under Python's IGNORECASE, U+0345 (which case-folds to a letter) matches neither the letter
    // nor the symbol class and is skipped; a space has the same effect on the JS pattern.
    const cleaned = this.clean(text).replace(/\u0345/g, ' ');
    const out: string[] = [];
    for (const [token] of cleaned.matchAll(TOKEN_RE)) {
      out.push(...this.bpe(this.toByteChars(token)).split(' '));
    }
    return out;
  }

  /** Token ids of a text, without <|startoftext|>/<|endoftext|> (SimpleTokenizer.encode). */
  encode(text: string): number[] {
    return this.pieces(text).map((piece) => {
      const id = this.encoder.get(piece);
      if (id === undefined) {
        throw new AhsError('AHS_ERR_FILE_FORMAT', `BPE piece ${JSON.stringify(piece)} of text ${abbreviate(text)} is not in the vocabulary ${this.vocabPath}`);
      }
      return id;
    });
  }

  /** Text of ids; every end of word becomes a space, invalid UTF-8 becomes U+FFFD. */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const piece = Number.isInteger(id) ? this.decoder[id] : undefined;
      check(piece !== undefined, 'AHS_ERR_INVALID_ARGUMENT',
        () => `token id ${id} passed to 'decode' is not in the CLIP vocabulary (valid ids are 0..${this.vocabSize - 1})`);
      for (const ch of piece) bytes.push(this.byteDecoder.get(ch)!);
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, ' ');
  }

  /**
   * clip.tokenize: one row per text, [<|startoftext|>, ...ids, <|endoftext|>, 0, ...].
   * Throws AHS_ERR_TEXT_TOO_LONG when a text needs more than `contextLength` ids, unless
   * `truncate` is set, in which case the first `contextLength` ids are kept and the last one
   * is replaced by <|endoftext|>.
   */
  tokenize(texts: readonly string[], opts: TokenizeOptions = {}): TokenizedBatch {
    const { contextLength = 77, truncate = false } = opts;
    check(Array.isArray(texts), 'AHS_ERR_INVALID_ARGUMENT',
      () => `argument 'texts' passed to 'tokenize' must be an array of strings, got ${typeof texts}`);
    check(Number.isInteger(contextLength) && contextLength >= 1, 'AHS_ERR_INVALID_ARGUMENT',
      () => `option 'contextLength' passed to 'tokenize' must be a positive integer, got ${contextLength}`);
    const ids = new Int32Array(texts.length * contextLength);
    texts.forEach((text, row) => {
      check(typeof text === 'string', 'AHS_ERR_INVALID_ARGUMENT',
        () => `texts[${row}] passed to 'tokenize' must be a string, got ${text === null ? 'null' : typeof text}`);
      let tokens = [this.sot, ...this.encode(text), this.eot];
      if (tokens.length > contextLength) {
        if (!truncate) {
          throw new AhsError('AHS_ERR_TEXT_TOO_LONG',
            `Input ${abbreviate(text)} (texts[${row}]) is too long for context length ${contextLength}: ` +
              `it needs ${tokens.length} tokens including <|startoftext|> and <|endoftext|>; ` +
              'shorten it or tokenize with truncate: true');
        }
        tokens = tokens.slice(0, contextLength);
        tokens[contextLength - 1] = this.eot;
      }
      ids.set(tokens, row * contextLength);
    });
    return { ids, shape: [texts.length, contextLength] };
  }

  private toByteChars(token: string): string {
    let out = '';
    for (let i = 0; i < token.length; i++) {
      const c = token.charCodeAt(i);
      // Non-ASCII: go through real UTF-8 bytes (cleaning already replaced lone surrogates).
      if (c >= 0x80) return Array.from(Buffer.from(token, 'utf8'), (b) => this.byteEncoder[b]!).join('');
      out += this.byteEncoder[c]!;
    }
    return out;
  }

  private resetCache(): void {
    this.cache.clear();
    this.cache.set(SOT_TEXT, SOT_TEXT);
    this.cache.set(EOT_TEXT, EOT_TEXT);
  }
}
