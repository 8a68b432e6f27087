// Class-name text embeddings for segmentation: prompts filled from templates, encoded in
// batches, normalised per prompt ([T, P, D] as CAT-Seg's get_text_embeds), cached.
import { createHash } from 'node:crypto';
import { AhsError } from '../../errors.js';
import { cat, noGrad, tensor, tidy, type Tensor } from '../../tensor/index.js';
import type { CLIP } from './clip_model.js';
import { fillTemplate, firstSynonym } from './prompts.js';
import { TextEmbeddingCache } from './text_embedding_cache.js';
import { ClipTokenizer } from './tokenizer.js';

export interface TextEmbedderOptions {
  /** Folder for the on-disk cache; null or undefined keeps it in memory. */
  cacheDir?: string | null;
  batchSize?: number;
  tokenizer?: ClipTokenizer;
  /** Called after each encoded batch when prompts are missing from the cache (a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export class TextEmbedder {
  readonly tokenizer: ClipTokenizer;
  readonly batchSize: number;
  /** See TextEmbedderOptions.onProgress; settable, e.g. on a model's own embedder. */
  onProgress: ((done: number, total: number) => void) | null;
  #cache: TextEmbeddingCache | null = null;

  constructor(readonly clip: CLIP, readonly opts: TextEmbedderOptions = {}) {
    this.tokenizer = opts.tokenizer ?? ClipTokenizer.default();
    this.batchSize = opts.batchSize ?? 128;
    this.onProgress = opts.onProgress ?? null;
  }

  /** How many of `texts` are not cached yet, i.e. must go through the text tower. */
  countMissing(texts: string[]): number {
    const cache = this.cache();
    return new Set(texts.filter((t) => !cache.get(t))).size;
  }

  /** sha256 over the text tower's parameters (names, shapes and bytes): the cache key. */
  fingerprint(): string {
    const h = createHash('sha256');
    for (const [name, t] of this.clip.namedParameters()) {
      if (name.startsWith('visual.')) continue;
      h.update(`${name}:${t.shape.join('x')};`);
      h.update(t.bytes());
    }
    return h.digest('hex').slice(0, 32);
  }

  /** Forgets cached embeddings (call after the text tower's weights change). */
  invalidate(): void {
    this.#cache = null;
  }

  private cache(): TextEmbeddingCache {
    this.#cache ??= new TextEmbeddingCache(this.fingerprint(), this.opts.cacheDir ?? null);
    return this.#cache;
  }

  /** The text tower on one batch of texts: raw embeddings [N, D]. */
  private encode(texts: string[]): Tensor {
    const tok = this.tokenizer.tokenize(texts);
    return tidy(() => this.clip.encodeText(tensor(tok.ids, { shape: tok.shape }).long()));
  }

  /** Raw (unnormalised) embeddings [N, D] of exact texts, from the cache where possible. */
  embedTexts(texts: string[]): Tensor {
    if (texts.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'embedTexts: no texts given');
    const cache = this.cache();
    const missing = [...new Set(texts.filter((t) => !cache.get(t)))];
    for (let i = 0; i < missing.length; i += this.batchSize) {
      const batch = missing.slice(i, i + this.batchSize);
      const rows = noGrad(() => tidy(() => this.encode(batch).data<'float32'>()));
      const dim = rows.length / batch.length;
      cache.putMany(batch.map((t, j) => [t, rows.slice(j * dim, (j + 1) * dim)]));
      this.onProgress?.(i + batch.length, missing.length);
    }
    const dim = cache.get(texts[0]!)!.length;
    const flat = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => flat.set(cache.get(t)!, i * dim));
    return tensor(flat, { shape: [texts.length, dim], device: this.clip.token_embedding.weight.device });
  }

  /**
   * Per-class, per-template embeddings normalised to unit length: [T, P, D].
   * `cached: false` runs the text tower with autograd (training a fine-tuned text tower).
   */
  classEmbeddings(classNames: string[], templates: string[], opts: { cached?: boolean } = {}): Tensor {
    const texts = classNames.flatMap((c) => templates.map((tpl) => fillTemplate(tpl, firstSynonym(c))));
    return tidy(() => {
      let raw: Tensor;
      if (opts.cached ?? true) raw = this.embedTexts(texts);
      else {
        const parts: Tensor[] = [];
        for (let i = 0; i < texts.length; i += this.batchSize) parts.push(this.encode(texts.slice(i, i + this.batchSize)));
        raw = parts.length === 1 ? parts[0]! : cat(parts, 0);
      }
      const unit = raw.div(raw.norm(2, -1, true));
      return unit.view([classNames.length, templates.length, unit.size(-1)]);
    });
  }

  /** One embedding per class: the mean over templates of the unit embeddings, renormalised
   * (the prompt-ensemble used by CLIP zero-shot and MaskCLIP): [T, D]. */
  ensembleEmbeddings(classNames: string[], templates: string[]): Tensor {
    return tidy(() => {
      const m = this.classEmbeddings(classNames, templates).mean(1);
      return m.div(m.norm(2, -1, true));
    });
  }
}

