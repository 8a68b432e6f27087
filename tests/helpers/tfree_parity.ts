// The parity tests of the training-free segmenters (golden tfree_<method>.io.safetensors): one
// body for NACLIP, SCLIP and ClearCLIP. Every setting (short side, crop, stride, logit scale,
// templates, mean, std, PAMR, Gaussian std, whole-image crop) is read from the file's metadata,
// every size from its tensors, the tolerances from the README, so another fixture folder of the
// same structure passes unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClip } from '../../src/models/clip/weights.js';
import type { CLIP } from '../../src/models/clip/clip_model.js';
import { TextEmbedder } from '../../src/models/clip/text_embedder.js';
import { ClipTokenizer } from '../../src/models/clip/tokenizer.js';
import { fillTemplate } from '../../src/models/clip/prompts.js';
import type { TrainingFreeSegmenter } from '../../src/models/tfree/training_free_segmenter.js';
import type { TrainingFreeSettings } from '../../src/models/tfree/settings.js';
import { dispose, noGrad, stack, tidy, type Tensor } from '../../src/tensor/index.js';
import { goldenPath, loadGolden, maxAbsDiff, skipUnless, trainingFreeTolerance, type TrainingFreeTolerance } from './golden.js';

type Meta = Record<string, string>;
export type BuildSegmenter = (clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings>, meta: Meta) => TrainingFreeSegmenter;

const json = <T>(meta: Meta, key: string): T => {
  const v = meta[key];
  if (v === undefined) throw new Error(`fixture metadata lacks '${key}'`);
  return JSON.parse(v) as T;
};

/** The segmentor arguments and pipeline settings the reference ran with. */
export function settingsFromMetadata(meta: Meta): Partial<TrainingFreeSettings> {
  const model = json<Record<string, unknown>>(meta, 'model_config');
  const steps = Number(meta.pamr_steps ?? model.pamr_steps ?? 0);
  const scale = json<[number, number]>(meta, 'resize_scale');
  return {
    shortSide: Number(meta.short_side), longSide: Math.max(...scale), crop: Number(meta.crop), stride: Number(meta.stride),
    logitScale: Number(meta.logit_scale), probThreshold: Number(meta.prob_thd),
    templates: json<string[]>(meta, 'templates'), mean: json<number[]>(meta, 'mean'), std: json<number[]>(meta, 'std'),
    pamr: steps > 0 ? { steps, dilations: meta.pamr_dilations ? json<number[]>(meta, 'pamr_dilations') : (model.pamr_stride as number[]) } : null,
  };
}

/** Label maps agree wherever the file's top-1 minus top-2 probability is at least the gap. */
function assertLabels(got: Tensor, want: Tensor, probs: Tensor, gap: number, name: string): void {
  tidy(() => {
    const top = probs.topk(2, 0)[0]; // (2, H, W)
    const sure = top.select(0, 0).sub(top.select(0, 1)).ge(gap);
    const n = sure.sum().item();
    const total = want.shape.reduce((a, b) => a * b, 1);
    assert.ok(n >= 0.5 * total, `${name}: only ${n} of ${total} pixels have a top-2 gap >= ${gap}; the test would say little`);
    const wrong = got.long().ne(want.long()).logicalAnd(sure).sum().item();
    assert.equal(wrong, 0, `${name}: ${wrong} pixels with a top-2 gap >= ${gap} have another label`);
  });
}

export function describeTrainingFreeParity(file: string, build: BuildSegmenter, defaults: () => TrainingFreeSettings): void {
  const skip = skipUnless(file, 'clip_tiny.weights.safetensors', 'README.md');
  describe(`training-free parity (${file})`, { skip }, () => {
    let clip: CLIP;
    let io: Map<string, Tensor>;
    let meta: Meta;
    let tol: TrainingFreeTolerance;
    let seg: TrainingFreeSegmenter;
    let classes: string[];
    const close = (got: Tensor, key: string) => {
      const want = io.get(key);
      assert.ok(want, `fixture has no '${key}'`);
      assert.deepEqual(got.shape, want.shape, `${key}: shape`);
      const d = maxAbsDiff(got, want);
      assert.ok(d <= tol.output, `${key}: max|diff| ${d} > ${tol.output}`);
    };
    before(() => {
      const g = loadGolden(file);
      io = g.tensors;
      meta = g.metadata;
      tol = trainingFreeTolerance();
      clip = loadClip(goldenPath(meta.weights_file ?? 'clip_tiny.weights.safetensors'));
      seg = build(clip, new TextEmbedder(clip), settingsFromMetadata(meta), meta);
      classes = json<string[]>(meta, 'classes');
    });
    after(() => { seg.dispose(); clip.dispose(); dispose([...io.values()]); });

    // Wrong here: ahs-seg's defaults for this method are not the configuration the reference ran
    // with (the file is each method's default PC-59 setting), so its CLI and eval would differ.
    test('defaults are the reference configuration', () => {
      const want = settingsFromMetadata(meta);
      const have = defaults();
      for (const k of Object.keys(want) as (keyof TrainingFreeSettings)[]) assert.deepEqual(have[k], want[k], `default ${k}`);
    });

    // Wrong here: a template or its order, or the tokenizer on these prompts.
    test('prompt tokens', () => {
      const templates = json<string[]>(meta, 'templates');
      assert.equal(templates.length, Number(meta.n_templates));
      const tok = ClipTokenizer.default().tokenize(classes.flatMap((c) => templates.map((t) => fillTemplate(t, c))));
      assert.deepEqual(tok.shape, io.get('text_tokens')!.shape);
      assert.deepEqual(Array.from(tok.ids, Number), io.get('text_tokens')!.toArray());
    });

    // Wrong here: the text tower, the per-prompt normalisation or the template mean.
    test('text embeddings per template and averaged', () => tidy(() => noGrad(() => {
      close(seg.text.classEmbeddings(classes, json<string[]>(meta, 'templates')), 'text_embeds_per_template');
      close(seg.textEmbeddings(seg.queries(classes).texts), 'text_embeds');
    })));

    // Wrong here: the mmseg rescale rule or OpenCV's fixed-point INTER_LINEAR.
    test('mmseg resize is bit-exact', () => tidy(() => {
      const got = seg.resize(io.get('image_u8')!);
      const want = io.get('image_resized_u8')!;
      assert.deepEqual(got.shape, [3, Number(meta.resized_height), Number(meta.resized_width)]);
      assert.deepEqual(got.shape, want.shape);
      assert.equal(got.ne(want).sum().item(), 0, 'resized pixels differ');
    }));

    // Wrong here: the window positions or their visiting order.
    test('sliding-window boxes', () => {
      const want = io.get('crop_boxes')!.toArray();
      const got = seg.windows(Number(meta.resized_height), Number(meta.resized_width)).flatMap((b) => [b.y1, b.y2, b.x1, b.x2]);
      assert.deepEqual(got, want);
    });

    // Wrong here: the method's last block, the positional-embedding interpolation or ln_post/proj.
    test('dense features and patch logits on the crop-size images', () => tidy(() => {
      const images = io.get('images')!;
      const { feats, grid } = seg.denseFeatures(images);
      assert.deepEqual(grid, [Number(meta.grid), Number(meta.grid)]);
      close(feats, 'dense_feats');
      close(seg.patchLogits(images, io.get('text_embeds')!), 'patch_logits');
    }));

    // Wrong here: the normalisation (mean, std) or how windows are cut from the resized image.
    test('patch logits of every window', () => tidy(() => {
      const x = seg.normalize(io.get('image_resized_u8')!).select(0, 0);
      const boxes = seg.windows(x.size(1), x.size(2));
      const crops = stack(boxes.map((b) => x.narrow(1, b.y1, b.y2 - b.y1).narrow(2, b.x1, b.x2 - b.x1)), 0);
      close(seg.patchLogits(crops, io.get('text_embeds')!), 'crop_patch_logits');
    }));

    // Wrong here: window upsampling, overlap averaging, the resize to the image, PAMR, the
    // softmax scale, the renormalisation or the arg-max.
    test('full pipeline from the raw image', () => tidy(() => {
      const out = seg.infer(io.get('image_u8')!, io.get('text_embeds')!);
      assert.deepEqual(out.windows.map((b) => [b.y1, b.y2, b.x1, b.x2]).flat(), io.get('crop_boxes')!.toArray());
      close(out.logits, 'seg_logits');
      assert.equal(out.refined !== null, io.has('seg_logits_pamr'), 'PAMR on exactly when the fixture has seg_logits_pamr');
      if (out.refined) { close(out.guide!, 'pamr_image'); close(out.refined, 'seg_logits_pamr'); }
      close(out.probs, 'seg_probs');
      assertLabels(out.labels, io.get('seg_pred')!, io.get('seg_probs')!, tol.labelGap, 'seg_pred');
    }));

    // Wrong here: the whole-image path (rectangular grid, its positional embedding and prior).
    const wholeKeys = () => [...io.keys()].filter((k) => k.startsWith('whole.'));
    test('whole-image variant', () => {
      if (wholeKeys().length === 0) return; // this method's file has none
      tidy(() => {
        const crop = Number(/slide_crop=(\d+)/.exec(meta.whole_config ?? '')?.[1]);
        assert.ok(Number.isInteger(crop), `whole_config '${meta.whole_config}' names no slide_crop`);
        const whole = build(clip, seg.text, { ...settingsFromMetadata(meta), crop }, meta);
        const text = io.get('text_embeds')!;
        const x = whole.normalize(io.get('image_resized_u8')!);
        const { feats, grid } = whole.denseFeatures(x);
        assert.deepEqual(grid, json<number[]>(meta, 'whole_grid'));
        close(feats, 'whole.dense_feats');
        close(whole.patchLogits(x, text), 'whole.patch_logits');
        const out = whole.infer(io.get('image_u8')!, text);
        close(out.logits, 'whole.seg_logits');
        if (io.has('whole.seg_logits_pamr')) close(out.refined!, 'whole.seg_logits_pamr');
        close(out.probs, 'whole.seg_probs');
        assertLabels(out.labels, io.get('whole.seg_pred')!, io.get('whole.seg_probs')!, tol.labelGap, 'whole.seg_pred');
        whole.dispose();
      });
    });
  });
}
