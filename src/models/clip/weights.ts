// CLIP weights in either naming: OpenAI's state dict (safetensors, TorchScript `.pt`, `.pth`) or
// Hugging Face's CLIPModel (`model.safetensors` + `config.json`). Everything maps to OpenAI's
// names through one table; the model is built from what the weights say.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AhsError } from '../../errors.js';
import { loadTensors } from '../../io/tensor_io.js';
import { cat, dispose, keep, tidy, type Tensor } from '../../tensor/index.js';
import { CLIP, clipConfigFromShapes, type ClipConfig } from './clip_model.js';
import type { QkvLayout } from './multihead_attention.js';
import { levenshtein } from '../../config/suggest.js';

/**
 * The one name mapping between Hugging Face CLIPModel and OpenAI CLIP state dicts, used in both
 * directions. `{p}` stands for `weight` or `bias`. Block keys are mapped in two steps: the tower
 * prefix (TOWERS), then the name inside the block (BLOCK). Two things are not renames: HF's
 * separate q/k/v projections are OpenAI's packed `attn.in_proj_*`, and HF stores the two
 * projections as Linear weights, i.e. transposed (visual_projection.weight = visual.proj^T).
 */
export const CLIP_NAME_MAP: readonly [hf: string, openai: string][] = [
  ['vision_model.embeddings.class_embedding', 'visual.class_embedding'],
  ['vision_model.embeddings.patch_embedding.weight', 'visual.conv1.weight'],
  ['vision_model.embeddings.position_embedding.weight', 'visual.positional_embedding'],
  ['vision_model.pre_layrnorm.{p}', 'visual.ln_pre.{p}'], // sic: HF's spelling
  ['vision_model.post_layernorm.{p}', 'visual.ln_post.{p}'],
  ['text_model.embeddings.token_embedding.weight', 'token_embedding.weight'],
  ['text_model.embeddings.position_embedding.weight', 'positional_embedding'],
  ['text_model.final_layer_norm.{p}', 'ln_final.{p}'],
  ['logit_scale', 'logit_scale'],
];
const TOWERS: readonly [string, string][] = [
  ['vision_model.encoder.layers.', 'visual.transformer.resblocks.'],
  ['text_model.encoder.layers.', 'transformer.resblocks.'],
];
const BLOCK: readonly [string, string][] = [
  ['self_attn.out_proj.{p}', 'attn.out_proj.{p}'],
  ['layer_norm1.{p}', 'ln_1.{p}'],
  ['layer_norm2.{p}', 'ln_2.{p}'],
  ['mlp.fc1.{p}', 'mlp.c_fc.{p}'],
  ['mlp.fc2.{p}', 'mlp.c_proj.{p}'],
];
const TRANSPOSED: readonly [string, string][] = [
  ['visual_projection.weight', 'visual.proj'],
  ['text_projection.weight', 'text_projection'],
];

/** Renames `key` through `pairs` (from side `from` to side `to`), or undefined. */
function rename(key: string, pairs: readonly [string, string][], from: 0 | 1): string | undefined {
  for (const pair of pairs) {
    const src = pair[from];
    const dst = pair[1 - from]!;
    if (src.endsWith('{p}')) {
      const stem = src.slice(0, -3);
      const p = key.startsWith(stem) ? key.slice(stem.length) : '';
      if (p === 'weight' || p === 'bias') return dst.replace('{p}', p);
    } else if (key === src) return dst;
  }
  return undefined;
}

/** Splits a block key into [tower prefix on the other side, rest], or undefined. */
function splitBlock(key: string, from: 0 | 1): [string, string, string] | undefined {
  for (const pair of TOWERS) {
    const m = new RegExp(`^${pair[from].replace(/\./g, '\\.')}(\\d+)\\.(.*)$`).exec(key);
    if (m) return [pair[1 - from]!, m[1]!, m[2]!];
  }
  return undefined;
}

/** Keys that describe rather than parameterise the model (OpenAI's build_model drops them). */
const DROPPED = [/^input_resolution$/, /^context_length$/, /^vocab_size$/, /position_ids$/];
const isDropped = (key: string): boolean => DROPPED.some((r) => r.test(key));

export function isHuggingFaceClip(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.startsWith('vision_model.') || k.startsWith('text_model.')) return true;
  return false;
}

/**
 * OpenAI-named tensors from Hugging Face ones: renames, merges q/k/v into in_proj_* and
 * transposes the two projections (HF stores them as Linear weights [out, in]).
 * Consumes (disposes) the input tensors it replaces.
 */
export function huggingFaceToOpenAI(hf: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const qkv = new Map<string, Map<string, Tensor>>(); // block prefix -> 'q.weight' etc.
  const fail = (key: string) => new AhsError('AHS_ERR_STATE_DICT', `no OpenAI name for Hugging Face CLIP key '${key}'`);
  for (const [key, t] of hf) {
    if (isDropped(key)) { t.dispose(); continue; }
    const tr = rename(key, TRANSPOSED, 0);
    if (tr) { out.set(tr, keep(tidy(() => t.transpose(0, 1).contiguous()))); t.dispose(); continue; }
    const block = splitBlock(key, 0);
    if (block) {
      const [prefix, i, rest] = block;
      const p = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
      if (p) {
        const slot = qkv.get(`${prefix}${i}`) ?? new Map<string, Tensor>();
        slot.set(`${p[1]}.${p[2]}`, t);
        qkv.set(`${prefix}${i}`, slot);
        continue;
      }
      const inner = rename(rest, BLOCK, 0);
      if (!inner) throw fail(key);
      out.set(`${prefix}${i}.${inner}`, t);
      continue;
    }
    const name = rename(key, CLIP_NAME_MAP, 0);
    if (!name) throw fail(key);
    out.set(name, t);
  }
  for (const [block, slot] of qkv) {
    for (const kind of ['weight', 'bias']) {
      const parts = ['q', 'k', 'v'].map((x) => slot.get(`${x}.${kind}`));
      if (parts.some((x) => !x)) throw new AhsError('AHS_ERR_STATE_DICT', `Hugging Face CLIP block ${block} lacks one of q/k/v_proj.${kind}`);
      out.set(`${block}.attn.in_proj_${kind}`, keep(cat(parts as Tensor[], 0)));
    }
    dispose([...slot.values()]);
  }
  return out;
}

/** Reads heads from a Hugging Face config.json beside the weights, when there is one. */
function hfHeads(weightsPath: string): { vision?: number; text?: number } {
  const cfgPath = join(dirname(weightsPath), 'config.json');
  if (!existsSync(cfgPath)) return {};
  try {
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { vision_config?: { num_attention_heads?: number }; text_config?: { num_attention_heads?: number } };
    return { vision: cfg.vision_config?.num_attention_heads, text: cfg.text_config?.num_attention_heads };
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${cfgPath}: not valid JSON (${(e as Error).message})`);
  }
}

/** OpenAI-named float32 CLIP tensors from any supported file. */
export function readClipStateDict(path: string): { tensors: Map<string, Tensor>; heads: { vision?: number; text?: number } } {
  // Descriptive keys are never read from disk.
  const { tensors } = loadTensors(path, { float32: true, filter: (k) => !isDropped(k) });
  if (isHuggingFaceClip(tensors.keys())) return { tensors: huggingFaceToOpenAI(tensors), heads: hfHeads(path) };
  return { tensors, heads: {} };
}

/** Keys the model size is read from (openai/CLIP's build_model). */
const SIZE_KEYS = ['visual.conv1.weight', 'visual.positional_embedding', 'ln_final.weight', 'text_projection'];

/**
 * Says why `keys` (of the file at `path`) are not CLIP weights, before sizes are inferred from
 * them: a segmentation checkpoint holds CLIP under a prefix (say which option takes such a file);
 * a renamed key gets its nearest name; anything else lists a few of its keys.
 */
export function checkClipKeys(path: string, keys: readonly string[]): void {
  const have = new Set(keys);
  const lacking = SIZE_KEYS.filter((k) => !have.has(k));
  if (lacking.length === 0) return;
  const k0 = lacking[0]!;
  const prefixed = keys.find((k) => k.endsWith(`.${k0}`));
  if (prefixed) {
    const prefix = prefixed.slice(0, -k0.length);
    const n = keys.filter((k) => k.startsWith(prefix)).length;
    throw new AhsError('AHS_ERR_STATE_DICT',
      `${path} is not a CLIP weights file: its CLIP weights sit under the prefix '${prefix}' (${n} of its ${keys.length} keys), ` +
      'as in a CAT-Seg / H-CLIP segmentation checkpoint; give such a file as the checkpoint (`ahs-seg segment --weights`, `ahs-seg eval --weights`), ' +
      'and give CLIP weights (a hub name such as openai/clip-vit-base-patch16, or an OpenAI / Hugging Face CLIP file) as --clip');
  }
  let near: string | undefined;
  let best = Math.max(2, Math.floor(k0.length / 4)) + 1; // a few edits: a renamed key, not another key
  for (const k of keys) {
    const d = levenshtein(k0, k);
    if (d < best) [near, best] = [k, d];
  }
  const hint = near ? `; '${near}' looks like it renamed` : `; its ${keys.length} keys start ${keys.slice(0, 3).map((k) => `'${k}'`).join(', ')}`;
  throw new AhsError('AHS_ERR_STATE_DICT',
    `${path} does not hold CLIP weights: it lacks '${lacking.join("', '")}' (needed to infer the model size)${hint}; ` +
    'give OpenAI or Hugging Face CLIP weights (a ViT CLIP: ResNet CLIPs are not supported)');
}

/** Builds CLIP from a weight file: sizes from the weights, strict loading (every key reported). */
export function loadClip(path: string, opts: { qkvLayout?: QkvLayout } = {}): CLIP {
  const { tensors, heads } = readClipStateDict(path);
  try {
    checkClipKeys(path, [...tensors.keys()]);
    const cfg: ClipConfig = clipConfigFromShapes(new Map([...tensors].map(([k, t]) => [k, t.shape])));
    if (heads.vision) cfg.visionHeads = heads.vision;
    if (heads.text) cfg.transformerHeads = heads.text;
    const model = new CLIP(cfg, opts);
    const sd = opts.qkvLayout === 'split' ? splitQkv(tensors) : tensors;
    model.loadStateDict(sd, { strict: true, source: path });
    if (sd !== tensors) dispose([...sd.values()]);
    return model.eval();
  } finally {
    dispose([...tensors.values()]);
  }
}

/** OpenAI's packed in_proj_weight -> CAT-Seg's q/k/v_proj_weight (model_vpt's layout). */
export function splitQkv(sd: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    if (k.endsWith('.attn.in_proj_weight')) {
      const base = k.slice(0, -'in_proj_weight'.length);
      const [q, kk, v] = t.chunk(3, 0) as [Tensor, Tensor, Tensor];
      out.set(`${base}q_proj_weight`, keep(q));
      out.set(`${base}k_proj_weight`, keep(kk));
      out.set(`${base}v_proj_weight`, keep(v));
    } else out.set(k, keep(t.view(t.shape)));
  }
  return out;
}

/** OpenAI-named CLIP tensors -> Hugging Face CLIPModel names (the inverse of huggingFaceToOpenAI)
 * and the config.json fields our loader and transformers read. Returns new tensors. */
export function openAIToHuggingFace(sd: Map<string, Tensor>, cfg: ClipConfig): { tensors: Map<string, Tensor>; config: Record<string, unknown> } {
  const out = new Map<string, Tensor>();
  const fail = (key: string) => new AhsError('AHS_ERR_STATE_DICT', `no Hugging Face name for CLIP key '${key}'`);
  for (const [key, t] of sd) {
    const tr = rename(key, TRANSPOSED, 1);
    if (tr) { out.set(tr, keep(tidy(() => t.transpose(0, 1).contiguous()))); continue; }
    const block = splitBlock(key, 1);
    if (block) {
      const [prefix, i, rest] = block;
      const packed = /^attn\.in_proj_(weight|bias)$/.exec(rest);
      if (packed) {
        tidy(() => (t.chunk(3, 0) as Tensor[]).forEach((part, j) => out.set(`${prefix}${i}.self_attn.${'qkv'[j]}_proj.${packed[1]}`, keep(part.clone()))));
        continue;
      }
      const inner = rename(rest, BLOCK, 1);
      if (!inner) throw fail(key);
      out.set(`${prefix}${i}.${inner}`, keep(t.clone()));
      continue;
    }
    const name = rename(key, CLIP_NAME_MAP, 1);
    if (!name) throw fail(key);
    out.set(name, keep(t.clone()));
  }
  const config = {
    architectures: ['CLIPModel'],
    projection_dim: cfg.embedDim,
    vision_config: { hidden_size: cfg.visionWidth, num_hidden_layers: cfg.visionLayers, num_attention_heads: cfg.visionHeads, patch_size: cfg.visionPatchSize, image_size: cfg.imageResolution, intermediate_size: 4 * cfg.visionWidth, hidden_act: 'quick_gelu' },
    text_config: { hidden_size: cfg.transformerWidth, num_hidden_layers: cfg.transformerLayers, num_attention_heads: cfg.transformerHeads, max_position_embeddings: cfg.contextLength, vocab_size: cfg.vocabSize, intermediate_size: 4 * cfg.transformerWidth, hidden_act: 'quick_gelu' },
  };
  return { tensors: out, config };
}
