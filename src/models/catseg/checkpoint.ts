// CAT-Seg checkpoints in detectron2's layout ({"model": state_dict} .pth, or safetensors with the
// same names), and CLIP weights placed where CAT-Seg keeps them.
import { isTrainerStateKey } from '../../io/checkpoint_keys.js';
import { loadTensors } from '../../io/tensor_io.js';
import { formatLoadReport, type LoadReport } from '../../nn/module.js';
import { dispose, noGrad, type Tensor } from '../../tensor/index.js';
import { readClipStateDict, splitQkv } from '../clip/weights.js';
import { oftStateDictFromHclip } from '../clip/finetune/oft_relation.js';
import type { CATSeg } from './catseg_model.js';
import { AHS_COMPONENT_PREFIXES } from '../ahs/components.js';

export const CLIP_PREFIX = 'sem_seg_head.predictor.clip_model.';

/** OpenAI-named CLIP tensors -> CAT-Seg's names (prefix, split q/k/v). Consumes the input. */
export function clipToCatSegKeys(openai: Map<string, Tensor>): Map<string, Tensor> {
  const split = splitQkv(openai);
  dispose([...openai.values()]);
  return new Map([...split].map(([k, t]) => [CLIP_PREFIX + k, t]));
}

/** Loads pretrained CLIP weights (any supported file) into a CAT-Seg model's CLIP. */
export function loadClipIntoCatSeg(model: CATSeg, path: string): LoadReport {
  const { tensors } = readClipStateDict(path);
  const sd = clipToCatSegKeys(tensors);
  try {
    const report = model.loadStateDict(sd, { strict: false, source: path });
    // Only CLIP's keys were given: everything else missing is expected.
    return { ...report, missing: report.missing.filter((k) => k.startsWith(CLIP_PREFIX)) };
  } finally {
    dispose([...sd.values()]);
  }
}

/**
 * Loads a CAT-Seg / H-CLIP / ahs-seg checkpoint. H-CLIP's per-block copies of the shared OFT
 * tensors are folded onto this model's single OFT module. Strict unless told otherwise; the
 * report lists every missing, unexpected and mis-shaped key.
 */
export function loadCatSegCheckpoint(model: CATSeg, path: string, opts: { strict?: boolean } = {}): LoadReport & { text: string } {
  const { tensors } = loadTensors(path, { float32: true, filter: (k) => !isTrainerStateKey(k) });
  let sd = tensors;
  const hasHclipOft = [...sd.keys()].some((k) => /_oft_(layer_R|relation_[lm]_R)/.test(k));
  if (hasHclipOft && model.oft) {
    const oftKeys = [...sd.keys()].filter((k) => /_oft_(layer_R|relation_[lm]_R)/.test(k));
    const oft = oftStateDictFromHclip(new Map(oftKeys.map((k) => [k, sd.get(k)!])));
    sd = new Map([...sd].filter(([k]) => !oftKeys.includes(k)));
    for (const [k, t] of oft) sd.set(`sem_seg_head.predictor.oft.${k}`, t);
  }
  try {
    // A CAT-Seg / H-CLIP checkpoint has none of the AHS components' keys: loading it into an
    // enhanced model leaves every component at its identity initialisation, which is no reason to
    // refuse it (they are reported missing). Anything else missing still fails a strict load.
    const isComponent = (k: string) => AHS_COMPONENT_PREFIXES.some((p) => k.startsWith(p));
    const fresh: string[] = [];
    if (![...sd.keys()].some(isComponent)) {
      for (const [k, t] of model.stateDict()) {
        if (isComponent(k) && !sd.has(k)) { fresh.push(k); sd.set(k, noGrad(() => t.clone())); }
      }
    }
    const report = model.loadStateDict(sd, { strict: opts.strict ?? true, source: path });
    const note = fresh.length ? `AHS-Seg components not in ${path}, left at their identity initialisation: ${fresh.join(', ')}` : '';
    return { ...report, missing: [...report.missing, ...fresh], text: [formatLoadReport(report, path), note].filter(Boolean).join('\n') };
  } finally {
    dispose([...tensors.values()]);
    dispose([...sd.values()]);
  }
}
