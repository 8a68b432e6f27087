// Parity with openai/CLIP `clip.tokenize` / `SimpleTokenizer.encode`: every entry of the golden
// tokenizer.json (class names in CAT-Seg's template plus edge cases) must give the same cleaned
// text, BPE pieces, ids and errors. Exact equality: ids are integers, there is no tolerance.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AhsError } from '../../src/errors.js';
import { ClipTokenizer } from '../../src/models/clip/tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const goldenDir = process.env.AHS_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/fixtures/golden');
const goldenFile = path.join(goldenDir, 'tokenizer.json');

interface Entry {
  id: number;
  source: string;
  text: string;
  cleaned?: string;
  bpe?: string[];
  n_ids: number;
  error: string | null;
  tokens: number[] | null;
  tokens_truncate?: number[];
}

interface Golden {
  context_length: number;
  sot: number;
  eot: number;
  vocab_size: number;
  template: string;
  entries: Entry[];
}

const skip = existsSync(goldenFile) ? false : `golden fixture ${goldenFile} not found (set AHS_GOLDEN_DIR)`;
const golden: Golden | undefined = skip ? undefined : JSON.parse(readFileSync(goldenFile, 'utf8'));

function label(e: Entry): string {
  return `entry ${e.id} (${e.source}) text ${JSON.stringify(e.text.length > 60 ? `${e.text.slice(0, 60)}…` : e.text)}`;
}

describe('CLIP tokenizer parity with openai/CLIP', { skip }, () => {
  const g = golden!;
  const tok = ClipTokenizer.default();
  const opts = { contextLength: g?.context_length };

  it('has the reference special ids and vocabulary size', () => {
    assert.equal(tok.sot, g.sot);
    assert.equal(tok.eot, g.eot);
    assert.equal(tok.vocabSize, g.vocab_size);
  });

  it('cleans every text like ftfy + html.unescape + whitespace_clean + lower', () => {
    for (const e of g.entries) {
      if (e.cleaned !== undefined) assert.equal(tok.clean(e.text), e.cleaned, label(e));
    }
  });

  it('splits every text into the reference BPE pieces and id count', () => {
    for (const e of g.entries) {
      if (e.bpe !== undefined) assert.deepEqual(tok.pieces(e.text), e.bpe, label(e));
      assert.equal(tok.encode(e.text).length + 2, e.n_ids, label(e));
    }
  });

  it('tokenizes every text to the reference ids, or throws exactly where the reference raises', () => {
    for (const e of g.entries) {
      if (e.error === null) {
        const out = tok.tokenize([e.text], opts);
        assert.deepEqual(out.shape, [1, g.context_length], label(e));
        assert.deepEqual(Array.from(out.ids), e.tokens, label(e));
      } else {
        assert.ok(e.error.includes(`context length ${g.context_length}`), `golden error of ${label(e)} names the context length`);
        assert.throws(() => tok.tokenize([e.text], opts), (err: unknown) => {
          assert.ok(err instanceof AhsError, label(e));
          assert.equal(err.code, 'AHS_ERR_TEXT_TOO_LONG', label(e));
          assert.match(err.message, new RegExp(`too long for context length ${g.context_length}: it needs ${e.n_ids} tokens`), label(e));
          return true;
        });
      }
    }
  });

  it('truncates like clip.tokenize(truncate=True)', () => {
    const withTruncate = g.entries.filter((e) => e.tokens_truncate !== undefined);
    for (const e of withTruncate) {
      assert.deepEqual(Array.from(tok.tokenize([e.text], { ...opts, truncate: true }).ids), e.tokens_truncate, label(e));
    }
  });

  it('tokenizes the whole batch at once into the same rows', () => {
    const ok = g.entries.filter((e) => e.error === null);
    const out = tok.tokenize(ok.map((e) => e.text), opts);
    assert.deepEqual(out.shape, [ok.length, g.context_length]);
    assert.deepEqual(Array.from(out.ids), ok.flatMap((e) => e.tokens!));
  });
});
