// CLIP's text cleaning: `whitespace_clean(basic_clean(text)).lower()` from openai/CLIP
// `simple_tokenizer.py`, where basic_clean = ftfy.fix_text + html.unescape twice + strip.
//
// Python's html.unescape is ported exactly (entity table in assets/clip/html5_entities.json).
// ftfy.fix_text (6.3.1, default config) is ported step by step, except that its mojibake
// detector (a large badness heuristic over ten single-byte encodings) is approximated: we only
// undo UTF-8 that was decoded as Latin-1 / Windows-1252, which is what real class names and
// prompts contain. Every other ftfy step (entities, C1 controls, ligatures, width, quotes, line
// breaks, surrogates, ANSI escapes, control characters, NFC, repeat until stable) is exact.
//
// The entity asset was generated with Debian's Python:
//   import html, html.entities, json
//   up = {n.upper(): c.upper() for n, c in html.entities.html5.items()
//         if n.endswith(';') and n == n.lower() and html.unescape('&' + n.upper()) == '&' + n.upper()}
//   json.dump({'source': ..., 'html5': html.entities.html5, 'ftfy_uppercase': up}, f, ensure_ascii=False)

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AhsError } from '../../errors.js';

const ENTITIES_URL = new URL('../../../assets/clip/html5_entities.json', import.meta.url);

interface EntityTables {
  html5: Map<string, string>; // name (with or without ';') -> text, as html.entities.html5
  ftfy: Map<string, string>; // '&name;' -> text, as ftfy.chardata.HTML_ENTITIES
}

let entityTables: EntityTables | undefined;

function entities(): EntityTables {
  if (entityTables) return entityTables;
  const file = fileURLToPath(ENTITIES_URL);
  let doc: { html5?: Record<string, string>; ftfy_uppercase?: Record<string, string> };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `cannot read the HTML entity table ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!doc.html5 || !doc.ftfy_uppercase) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `HTML entity table ${file} lacks the 'html5' or 'ftfy_uppercase' key`);
  }
  // Maps, not objects: entity names such as 'constructor' must never hit the prototype.
  const html5 = new Map(Object.entries(doc.html5));
  const ftfy = new Map<string, string>();
  for (const [name, text] of html5) if (name.endsWith(';')) ftfy.set(`&${name}`, text);
  for (const [name, text] of Object.entries(doc.ftfy_uppercase)) ftfy.set(`&${name}`, text);
  entityTables = { html5, ftfy };
  return entityTables;
}

// Windows-1252 for bytes 0x80..0x9F; the five undefined bytes decode to themselves ("sloppy").
// Python's html.unescape uses the same table for numeric references in that range.
const CP1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

// ---- Python html.unescape (Lib/html/__init__.py) ----

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function isInvalidCodepoint(n: number): boolean {
  return (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) || (n & 0xfffe) === 0xfffe;
}

function replaceCharref(ref: string): string {
  if (ref[0] === '#') {
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
    const num = parseInt(digits, hex ? 16 : 10); // huge values overflow to big floats/Infinity: still > 0x10FFFF
    if (num === 0x00) return '\ufffd';
    if (num === 0x0d) return '\r';
    if (num >= 0x80 && num <= 0x9f) return CP1252_C1[num - 0x80]!;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (isInvalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  const { html5 } = entities();
  const hit = html5.get(ref);
  if (hit !== undefined) return hit;
  // Longest known prefix, as the HTML5 spec does for legacy names without ';' ("&notit" -> "¬it").
  const cps = Array.from(ref);
  for (let x = cps.length - 1; x > 1; x--) {
    const prefix = cps.slice(0, x).join('');
    const text = html5.get(prefix);
    if (text !== undefined) return text + cps.slice(x).join('');
  }
  return `&${ref}`;
}

/** Python's `html.unescape`: named (with or without ';') and numeric character references. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF_RE, (_m, ref: string) => replaceCharref(ref));
}

// ---- ftfy.fix_text ----

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy's unescape_html: only ';'-terminated entities, plus upper-cased ones like '&NTILDE;'. */
export function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  const { ftfy } = entities();
  return text.replace(FTFY_ENTITY_RE, (m) => {
    const hit = ftfy.get(m);
    if (hit !== undefined) return hit;
    if (m.startsWith('&#')) {
      const u = htmlUnescape(m);
      return u.includes(';') ? m : u; // a partial decode leaves the ';' behind: keep the original
    }
    return m;
  });
}

// A UTF-8 byte sequence seen through Latin-1 / Windows-1252: a lead byte (C2..F4) followed by the
// right number of continuation bytes (80..BF), each shown as the character that byte decodes to.
const CONT = `[\\x80-\\xbf${CP1252_C1.replace(/[\x81\x8d\x8f\x90\x9d]/g, '')}]`;
const MOJIBAKE_SEQ_RE = new RegExp(`[\\xc2-\\xdf]${CONT}|[\\xe0-\\xef]${CONT}{2}|[\\xf0-\\xf4]${CONT}{3}`, 'g');
// Stand-in for ftfy's badness score: an accented letter followed by typographic punctuation
// ('Brontë…”', 'CAFÉ…') is ordinary text, not mojibake -- except after 'Ã', 'â' and 'ð', the lead
// bytes (C3, E2, F0) of accented letters, punctuation and emoji, whose mojibake looks like that.
const TYPOGRAPHIC_RE = /[\u2026\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2022\u2122\u2039\u203a]/;

function looksLikeMojibake(seq: string): boolean {
  return 'Ãâð'.includes(seq[0]!) || !TYPOGRAPHIC_RE.test(seq[1]!);
}

function hasMojibake(text: string): boolean {
  for (const [seq] of text.matchAll(MOJIBAKE_SEQ_RE)) if (looksLikeMojibake(seq)) return true;
  return false;
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

// Character -> byte for sloppy Windows-1252, and for "either" (Latin-1 or Windows-1252, as in
// embedded mojibake like 'ã\x83\x84' where a program kept some C1 controls).
const CP1252_ENCODE = new Map<string, number>();
const EITHER_ENCODE = new Map<string, number>();
for (let b = 0; b < 256; b++) {
  EITHER_ENCODE.set(String.fromCharCode(b), b);
  const ch = b >= 0x80 && b <= 0x9f ? CP1252_C1[b - 0x80]! : String.fromCharCode(b);
  CP1252_ENCODE.set(ch, b);
  EITHER_ENCODE.set(ch, b);
}

type SingleByte = 'latin-1' | 'sloppy-windows-1252' | 'either';

/** Encodes in a single-byte encoding and decodes as strict UTF-8; null when either step fails. */
function redecode(text: string, encoding: SingleByte): string | null {
  const table = encoding === 'either' ? EITHER_ENCODE : CP1252_ENCODE;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = encoding === 'latin-1' ? (c < 256 ? c : undefined) : table.get(text[i]!);
    if (b === undefined) return null;
    bytes[i] = b;
  }
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return null;
  }
}

/** Approximation of ftfy.fix_encoding: undo UTF-8 that was decoded as Latin-1 / Windows-1252. */
export function fixEncoding(text: string): string {
  for (;;) {
    if (!hasMojibake(text)) return text;
    // Like ftfy: the whole text in one encoding first, then each sequence on its own
    // (decode_inconsistent_utf8, for mojibake embedded in otherwise good text).
    const whole = redecode(text, 'latin-1') ?? redecode(text, 'sloppy-windows-1252');
    const fixed = whole ?? text.replace(MOJIBAKE_SEQ_RE, (seq) => (looksLikeMojibake(seq) && redecode(seq, 'either')) || seq);
    if (fixed === text) return text;
    text = fixed; // mojibake can be nested: repeat until nothing changes
  }
}

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj',
  '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\ufb00': 'ff', '\ufb01': 'fi',
  '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const ANSI_RE = /\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu; // Python's \d is any Unicode decimal digit
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fixSegment(text: string, unescapeHtml: boolean): string {
  for (;;) {
    const orig = text;
    if (unescapeHtml) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    text = text.replace(/[\x80-\x9f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!); // fix_c1_controls
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c);
    text = text.replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC'))); // fix_character_width
    text = text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'"); // uncurl_quotes
    text = text.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\x85]/g, '\n'); // fix_line_breaks
    text = text.replace(LONE_SURROGATE_RE, '\ufffd'); // fix_surrogates (pairs are already joined in JS)
    text = text.replace(ANSI_RE, ''); // remove_terminal_escapes
    text = text.replace(CONTROL_RE, ''); // remove_control_chars
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/**
 * ftfy.fix_text with its default config. Works line by line; HTML entities are decoded only
 * until a line containing '<' is seen (ftfy's unescape_html="auto"), since that may be markup.
 */
export function fixText(text: string): string {
  const out: string[] = [];
  let unescapeHtml = true;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    const segment = text.slice(pos, end);
    if (unescapeHtml && segment.includes('<')) unescapeHtml = false;
    out.push(fixSegment(segment, unescapeHtml));
    pos = end;
  }
  return out.join('');
}

// ---- whitespace: Python's str.strip() uses str.isspace() (White_Space plus U+001C..U+001F);
// the `regex` module's \s is White_Space. JS's \s is neither: it adds U+FEFF and lacks U+0085.
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Character class body matching the `regex` module's `\s` (Unicode White_Space). */
export const PY_REGEX_WHITESPACE_CLASS = WHITE_SPACE;
const WHITE_SPACE_RUN_RE = new RegExp(`[${WHITE_SPACE}]+`, 'g');
const ISSPACE_RE = new RegExp(`[${WHITE_SPACE}\\x1c-\\x1f]`);

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && ISSPACE_RE.test(text[start]!)) start++;
  while (end > start && ISSPACE_RE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** CLIP's basic_clean: ftfy, html.unescape twice, strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
}

/** CLIP's whitespace_clean: runs of whitespace become one space, then strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(WHITE_SPACE_RUN_RE, ' '));
}

/** The full cleaning openai/CLIP applies before BPE: `whitespace_clean(basic_clean(t)).lower()`. */
export function clipClean(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}
