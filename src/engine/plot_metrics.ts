// Renders a training run's metrics (read by metrics_log.ts) to SVG with Vega-Lite and rasterises
// it with sharp: panel 1 the loss terms, panel 2 the learning rate, panel 3 evaluation mIoU when
// the run has any. Vega-Lite does the axes, ticks, log scale and legends that a hand-drawn SVG
// would have to reimplement; it runs headless in Node with no canvas package.

import { basename, dirname, join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { AhsError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic_write.js';
import { readMetrics, type MetricsLog, type Series } from './metrics_log.js';

export interface PlotOptions {
  /** PNG width in pixels (the SVG is drawn at its natural size and rasterised to this width). */
  width?: number;
  /** Main title, e.g. the run's folder name. */
  title?: string;
}

export interface PlotPanel {
  title: string;
  /** Series names drawn in the panel, in legend order. */
  series: string[];
  logScale: boolean;
}

export interface RenderedPlot {
  svg: string;
  png: Buffer;
  width: number;
  height: number;
  panels: PlotPanel[];
}

const DEFAULT_WIDTH = 1200;
/** Log-scale the loss panel when its values span more than this factor (two decades). */
const LOG_SPAN = 100;

/** Loss terms: detectron2's "total_loss" plus every "loss_<name>". */
export function lossKeys(log: MetricsLog): string[] {
  const keys = [...log.series.keys()].filter((k) => k === 'total_loss' || k.startsWith('loss_'));
  return keys.sort((a, b) => (a === 'total_loss' ? -1 : b === 'total_loss' ? 1 : a.localeCompare(b)));
}

/** mIoU series: any key ending in "/mIoU", named by what precedes it ("sem_seg", "ade20k_150_test_sem_seg/sem_seg"). */
export function miouKeys(log: MetricsLog): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of log.series.keys()) if (k.endsWith('/mIoU')) out.set(k.slice(0, -'/mIoU'.length) || k, k);
  return out;
}

/** True when every value is positive and max/min exceeds LOG_SPAN (zeros cannot go on a log axis). */
export function wantsLogScale(series: Series[]): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) for (const [, v] of s) { min = Math.min(min, v); max = Math.max(max, v); }
  return min > 0 && max / min > LOG_SPAN;
}

interface Row { series: string; iteration: number; value: number }
type VConcatView = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

function rows(named: [string, Series][]): Row[] {
  return named.flatMap(([name, s]) => s.map(([iteration, value]) => ({ series: name, iteration, value })));
}

/** Builds the Vega-Lite spec and the panel list; exported so tests can inspect the choices. */
export function buildSpec(log: MetricsLog, opts: PlotOptions = {}): { spec: TopLevelSpec; panels: PlotPanel[] } {
  const losses = lossKeys(log).map((k): [string, Series] => [k, log.series.get(k)!]);
  const lr = log.series.get('lr');
  const mious = [...miouKeys(log)].map(([name, k]): [string, Series] => [name, log.series.get(k)!]);
  if (losses.length === 0 && !lr && mious.length === 0) {
    const found = [...log.series.keys()];
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${log.path} has nothing to plot: no total_loss, loss_*, lr or */mIoU values `
      + `(${log.lines} lines${found.length ? `; numeric fields: ${found.slice(0, 12).join(', ')}` : ', no numeric fields'})`);
  }
  const last = log.iterations[log.iterations.length - 1] ?? 0;
  // One x domain for every panel, so an evaluation point lines up with the training curves above it.
  const x = { field: 'iteration', type: 'quantitative' as const, title: 'iteration', scale: { domain: [0, Math.max(last, 1)], nice: false } };
  const width = 960;
  const height = 260;
  const panels: PlotPanel[] = [];
  const views: VConcatView[] = [];

  if (losses.length > 0) {
    const logScale = wantsLogScale(losses.map(([, s]) => s));
    panels.push({ title: 'Losses', series: losses.map(([n]) => n), logScale });
    views.push({
      title: 'Losses', width, height, data: { values: rows(losses) }, mark: 'line',
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: logScale ? 'loss (log scale)' : 'loss',
          scale: logScale ? { type: 'log' } : { zero: false } },
        color: { field: 'series', type: 'nominal', title: 'loss term', sort: losses.map(([n]) => n) },
        // The sum is drawn heavier than its terms so it stands out in a crowded panel.
        strokeWidth: { condition: { test: "datum.series === 'total_loss'", value: 2.5 }, value: 1.3 },
      },
    });
  }
  if (lr) {
    panels.push({ title: 'Learning rate', series: ['lr'], logScale: false });
    views.push({
      title: 'Learning rate', width, height: 160, data: { values: rows([['lr', lr]]) },
      mark: { type: 'line', color: '#555' },
      encoding: { x, y: { field: 'value', type: 'quantitative', title: 'lr', axis: { format: '.1e' } } },
    });
  }
  if (mious.length > 0) {
    panels.push({ title: 'Evaluation mIoU', series: mious.map(([n]) => n), logScale: false });
    views.push({
      title: 'Evaluation mIoU', width, height: 200, data: { values: rows(mious) },
      mark: { type: 'line', point: true },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: 'mIoU (%)', scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: 'dataset', scale: { scheme: 'dark2' } },
      },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: opts.title ?? 'Training metrics',
      subtitle: `${log.lines} logged lines, iterations ${log.iterations[0] ?? 0} to ${last}`
        + (log.truncatedLastLine ? ' (truncated last line skipped)' : ''),
      fontSize: 20, subtitleFontSize: 13, anchor: 'start',
    },
    background: 'white',
    padding: 16,
    spacing: 28,
    vconcat: views,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: {
      font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
      title: { fontSize: 16 }, axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 320 },
      view: { stroke: '#ccc' },
    },
  } satisfies TopLevelSpec;
  return { spec, panels };
}

/** Renders the metrics to an SVG string and a PNG `opts.width` pixels wide. */
export async function renderMetricsPlot(log: MetricsLog, opts: PlotOptions = {}): Promise<RenderedPlot> {
  const { spec, panels } = buildSpec(log, opts);
  // renderer 'none': no canvas or DOM needed; toSVG builds the scenegraph itself.
  const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const target = opts.width ?? DEFAULT_WIDTH;
  if (!Number.isInteger(target) || target < 300 || target > 10000) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `plot width must be an integer from 300 to 10000 pixels, got ${opts.width}`);
  }
  const svgWidth = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
  if (!(svgWidth > 0)) throw new AhsError('AHS_ERR_NATIVE', 'Vega produced an SVG without a width');
  // Rasterise at the density that gives the target width, so text is drawn at that size, not scaled.
  const density = (72 * target) / svgWidth;
  const png = await sharp(Buffer.from(svg), { density }).resize({ width: target }).flatten({ background: '#ffffff' }).png().toBuffer();
  const meta = await sharp(png).metadata();
  return { svg, png, width: meta.width!, height: meta.height!, panels };
}

export interface PlotRunResult {
  png: string;
  svg: string;
  panels: PlotPanel[];
  log: MetricsLog;
}

/** Reads OUTPUT_DIR/metrics.json and writes the PNG (default OUTPUT_DIR/metrics.png) and the SVG beside it. */
export async function plotRun(outputDir: string, opts: PlotOptions & { out?: string } = {}): Promise<PlotRunResult> {
  const dir = resolve(outputDir);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${outputDir} is not a folder; it should be the OUTPUT_DIR of a run of \`ahs-seg train\`, which writes metrics.json there`);
  }
  const log = await readMetrics(join(dir, 'metrics.json'));
  const png = resolve(opts.out ?? join(dir, 'metrics.png'));
  if (!/\.png$/i.test(png)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--out must name a .png file, got ${opts.out}`);
  const svgPath = join(dirname(png), `${basename(png).slice(0, -'.png'.length)}.svg`);
  const r = await renderMetricsPlot(log, { ...opts, title: opts.title ?? `Training metrics: ${basename(dir)}` });
  await writeFileAtomic(svgPath, r.svg);
  await writeFileAtomic(png, r.png);
  return { png, svg: svgPath, panels: r.panels, log };
}
