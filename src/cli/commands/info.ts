// `ahs-seg info`: what a config builds, with its parameter counts (total and trainable) by module.
import { loadConfig } from '../../config/index.js';
import { buildCatSeg } from '../../models/catseg/build.js';
import { checkCatSegModelFits } from '../../engine/model_memory.js';
import type { Module } from '../../nn/index.js';

function counts(m: Module, filter: (name: string) => boolean = () => true): { total: number; trainable: number } {
  let total = 0, trainable = 0;
  for (const [n, t] of m.namedParameters()) {
    if (!filter(n)) continue;
    total += t.numel;
    if (t.requiresGrad) trainable += t.numel;
  }
  return { total, trainable };
}

const fmt = (n: number) => n.toLocaleString('en-US');

export async function info(opts: { config: string }, overrides: string[]): Promise<void> {
  const cfg = loadConfig(opts.config, overrides);
  checkCatSegModelFits(cfg, opts.config); // before allocating: absurd widths fail in a millisecond
  const model = buildCatSeg(cfg);
  const h = cfg.MODEL.SEM_SEG_HEAD;
  const rows: [string, { total: number; trainable: number }][] = [
    ['CLIP image encoder (visual.*)', counts(model.clip, (n) => n.startsWith('visual.'))],
    ['CLIP text encoder', counts(model.clip, (n) => !n.startsWith('visual.'))],
    ...(model.oft ? [['H-CLIP orthogonal transforms (oft)', counts(model.oft)] as [string, { total: number; trainable: number }]] : []),
    ['cost aggregation (transformer)', counts(model.aggregator)],
    ['guidance upsamplers (upsample1, upsample2)', { total: counts(model.upsample1).total + counts(model.upsample2).total, trainable: counts(model.upsample1).trainable + counts(model.upsample2).trainable }],
  ];
  const components: [string, Module | null][] = [
    ['AHS-Seg HA-HEM strengths (hem)', model.hem],
    ['AHS-Seg MH-FPN pyramid (ms_fpn)', model.msFpn],
    ['AHS-Seg MH-FPN cost channels (ms_cost)', model.msCost],
    ['AHS-Seg DC-HSP projection (dc_hsp)', model.dcHsp],
  ];
  const present = components.filter((c): c is [string, Module] => c[1] !== null);
  for (const [k, m] of present) rows.push([k, counts(m)]);
  const clipT = counts(model.clip).trainable + (model.oft ? counts(model.oft).trainable : 0);
  const all = counts(model);
  const w = Math.max(...rows.map(([k]) => k.length), 24);
  const line = (k: string, c: { total: number; trainable: number }) =>
    `  ${k.padEnd(w)}  ${fmt(c.total).padStart(13)}  ${fmt(c.trainable).padStart(13)}\n`;
  process.stdout.write(`${opts.config}: ${cfg.MODEL.META_ARCHITECTURE}, CLIP ${h.CLIP_PRETRAINED}, fine-tuning '${h.CLIP_FINETUNE}', prompts '${cfg.MODEL.PROMPT_ENSEMBLE_TYPE}' (P = ${model.opts.templates.length}), taps ${model.opts.taps.join(', ')}, input ${model.opts.clipInputSize}px\n`);
  process.stdout.write(`  ${'module'.padEnd(w)}  ${'parameters'.padStart(13)}  ${'trainable'.padStart(13)}\n`);
  for (const [k, c] of rows) process.stdout.write(line(k, c));
  process.stdout.write(line('total', all));
  const clipTotal = counts(model.clip).total;
  process.stdout.write(`  CLIP trainable: ${fmt(clipT)} of ${fmt(clipTotal)} CLIP parameters (${((100 * clipT) / clipTotal).toFixed(2)}%)\n`);
  if (present.length) {
    const added = present.reduce((n, [, m]) => n + counts(m).total, 0);
    const per = present.map(([k, m]) => `${k.replace(/^AHS-Seg /, '').replace(/ \(.*\)$/, '')} ${((100 * counts(m).total) / clipTotal).toFixed(2)}%`).join(', ');
    // The AHS-Seg paper puts its additions at about 6% of CLIP; this is what this config builds.
    process.stdout.write(`  AHS-Seg components: ${fmt(added)} parameters = ${((100 * added) / clipTotal).toFixed(2)}% of CLIP's (${per})\n`);
  }
  model.dispose();
}
