// CLIP weights in either naming: OpenAI's state dict (safetensors, TorchScript `.pt`, `.pth`) or
// Hugging Face's CLIPModel (`model.safetensors` + `config.json`). Everything maps to OpenAI's
// names through one table; the model is built from what the weights say.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AhsError } from '../../errors.js';
import { loadTensors } from '../../io/tensor_io.js';
import { cat, dispose, keep, type Tensor } from '../../tensor/index.js';
import { CLIP, clipConfigFromShapes, type ClipConfig } from './clip_model.js';
import type { QkvLayout } from './multihead_attention.js';

/** Hugging Face CLIPModel name -> OpenAI name (per-block keys use N for the block index). */
export const HF_TO_OPENAI: [RegExp, string][] = [
  [/^vision_model\.embeddings\.class_embedding$/, 'visual.class_embedding'],
  [/^vision_model\.embeddings\.patch_embedding\.weight$/, 'visual.conv1.weight'],
  [/^vision_model\.embeddings\.position_embedding\.weight$/, 'visual.positional_embedding'],
  [/^vision_model\.pre_layrnorm\.(weight|bias)$/, 'visual.ln_pre.$1'],
  [/^vision_model\.post_layernorm\.(weight|bias)$/, 'visual.ln_post.$1'],
  [/^vision_model\.encoder\.layers\.(\d+)\.(.*)$/, 'visual.transformer.resblocks.$1.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.(.*)$/, 'transformer.resblocks.$1.$2'],
  [/^text_model\.embeddings\.token_embedding\.weight$/, 'token_embedding.weight'],
  [/^text_model\.embeddings\.position_embedding\.weight$/, 'positional_embedding'],
  [/^text_model\.final_layer_norm\.(weight|bias)$/, 'ln_final.$1'],
  [/^logit_scale$/, 'logit_scale'],
];
/** Inside a block: HF sub-module name -> OpenAI sub-module name. */
const HF_BLOCK: [RegExp, string][] = [
  [/^self_attn\.out_proj\.(weight|bias)$/, 'attn.out_proj.$1'],
  [/^layer_norm1\.(weight|bias)$/, 'ln_1.$1'],
  [/^layer_norm2\.(weight|bias)$/, 'ln_2.$1'],
  [/^mlp\.fc1\.(weight|bias)$/, 'mlp.c_fc.$1'],
  [/^mlp\.fc2\.(weight|bias)$/, 'mlp.c_proj.$1'],
];
/** Keys that describe rather than parameterise the model (OpenAI's build_model drops them). */
const DROPPED = [/^input_resolution$/, /^context_length$/, /^vocab_size$/, /position_ids$/];

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
  const qkv = new Map<string, { q?: [Tensor, Tensor]; k?: [Tensor, Tensor]; v?: [Tensor, Tensor] }>();
  for (const [key, t] of hf) {
    if (DROPPED.some((r) => r.test(key))) { t.dispose(); continue; }
    if (key === 'visual_projection.weight' || key === 'text_projection.weight') {
      out.set(key === 'visual_projection.weight' ? 'visual.proj' : 'text_projection', keep(t.transpose(0, 1).contiguous()));
      t.dispose();
      continue;
    }
    const rule = HF_TO_OPENAI.find(([r]) => r.test(key));
    if (!rule) throw new AhsError('AHS_ERR_STATE_DICT', `no OpenAI name for Hugging Face CLIP key '${key}'`);
    let name = key.replace(rule[0], rule[1]);
    const m = /^(.*resblocks\.\d+)\.(.*)$/.exec(name);
    if (m) {
      const [, block, rest] = m as unknown as [string, string, string];
      const p = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(rest);
      if (p) {
        const slot = qkv.get(block) ?? {};
        const pair = slot[p[1] as 'q' | 'k' | 'v'] ?? ([undefined, undefined] as unknown as [Tensor, Tensor]);
        pair[p[2] === 'weight' ? 0 : 1] = t;
        slot[p[1] as 'q' | 'k' | 'v'] = pair;
        qkv.set(block, slot);
        continue;
      }
      const b = HF_BLOCK.find(([r]) => r.test(rest));
      if (!b) throw new AhsError('AHS_ERR_STATE_DICT', `no OpenAI name for Hugging Face CLIP key '${key}'`);
      name = `${block}.${rest.replace(b[0], b[1])}`;
    }
    out.set(name, t);
  }
  for (const [block, { q, k, v }] of qkv) {
    if (!q?.[0] || !k?.[0] || !v?.[0] || !q[1] || !k[1] || !v[1]) {
      throw new AhsError('AHS_ERR_STATE_DICT', `Hugging Face CLIP block ${block} lacks one of q/k/v_proj weight or bias`);
    }
    out.set(`${block}.attn.in_proj_weight`, keep(cat([q[0], k[0], v[0]], 0)));
    out.set(`${block}.attn.in_proj_bias`, keep(cat([q[1], k[1], v[1]], 0)));
    dispose([q, k, v]);
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
  const { tensors } = loadTensors(path, { float32: true });
  if (isHuggingFaceClip(tensors.keys())) return { tensors: huggingFaceToOpenAI(tensors), heads: hfHeads(path) };
  for (const k of [...tensors.keys()]) if (DROPPED.some((r) => r.test(k))) { tensors.get(k)!.dispose(); tensors.delete(k); }
  return { tensors, heads: {} };
}

/** Builds CLIP from a weight file: sizes from the weights, strict loading (every key reported). */
export function loadClip(path: string, opts: { qkvLayout?: QkvLayout } = {}): CLIP {
  const { tensors, heads } = readClipStateDict(path);
  try {
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
