// `ahs-seg plot`: metrics.json to a PNG (and SVG) with loss, lr and mIoU panels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseMetrics } from '../../../src/engine/metrics_log.js';
import { buildSpec, plotRun, renderMetricsPlot, wantsLogScale } from '../../../src/engine/plot_metrics.js';
import { isAhsError } from '../../helpers/ahs_error.js';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'ahs-plot-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small run: losses falling over three decades, warmup + poly lr, two evaluations on two datasets. */
function runText(opts: { eval?: boolean } = {}): string {
  const lines: string[] = [];
  for (let it = 19; it < 1000; it += 20) {
    const d = Math.exp(-it / 120);
    lines.push(JSON.stringify({
      iteration: it, total_loss: 3 * d + 0.004, loss_sem_seg: 2 * d + 0.003, loss_energy: d + 0.001,
      lr: it < 100 ? 2e-4 * it / 100 : 2e-4 * (1 - it / 1000) ** 0.9, time: 0.4, data_time: 0.01,
    }));
    if (opts.eval && (it === 499 || it === 999 - 20)) {
      lines.push(JSON.stringify({ iteration: it, 'ade20k_150_test_sem_seg/sem_seg/mIoU': it / 40, 'pc59_val_sem_seg/sem_seg/mIoU': it / 20, 'pc59_val_sem_seg/sem_seg/fwIoU': 50 }));
    }
  }
  return `${lines.join('\n')}\n`;
}

function runDir(name: string, text: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'metrics.json'), text);
  return d;
}

/** Counts pixels that are not white in a region of an RGB(A) PNG, and those that are dark (text, lines). */
async function inkIn(png: Buffer, region?: { left: number; top: number; width: number; height: number }) {
  const img = sharp(png).removeAlpha();
  const { data, info } = await (region ? img.extract(region) : img).raw().toBuffer({ resolveWithObject: true });
  let nonWhite = 0;
  let dark = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const sum = data[i]! + data[i + 1]! + data[i + 2]!;
    if (sum < 750) nonWhite++;
    if (sum < 200) dark++;
  }
  return { nonWhite, dark, total: info.width * info.height };
}

/**
 * Ink of 'iiiiiiii' and of 'MMMMMMMM' drawn by sharp with the plot's font stack. With no font
 * installed librsvg draws a box for every glyph (with the code point in it), so the two come out about equal.
 */
async function glyphInk(): Promise<[number, number]> {
  const ink = async (t: string) => (await inkIn(await sharp(Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><rect width="300" height="40" fill="white"/>`
    + `<text x="4" y="30" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="24">${t}</text></svg>`)).png().toBuffer())).dark;
  return [await ink('iiiiiiii'), await ink('MMMMMMMM')];
}

// Wrong here: the PNG is blank or mis-sized (sharp failing on Vega's SVG, a wrong density), the
// series are missing from the drawing, or no font was found so every title and label is invisible.
test('renders a 1200-px-wide PNG with ink and readable text, and an SVG naming every series', async () => {
  const log = parseMetrics(runText({ eval: true }), 'metrics.json');
  const r = await renderMetricsPlot(log, { title: 'Training metrics: tiny' });
  const meta = await sharp(r.png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 1200);
  assert.equal(r.width, 1200);
  assert.ok(meta.height! > 600 && meta.height! < 1600, `height ${meta.height} for three panels`);
  const all = await inkIn(r.png);
  assert.ok(all.nonWhite > all.total * 0.01, `only ${all.nonWhite} of ${all.total} pixels are not background`);
  // The title sits alone at the top left: dark pixels there can only be glyphs.
  const title = await inkIn(r.png, { left: 0, top: 0, width: 300, height: 36 });
  assert.ok(title.dark > 150, `the title drew only ${title.dark} dark pixels`);
  const [thin, wide] = await glyphInk();
  assert.ok(wide > 2 * thin, `'M' and 'i' draw about the same ink (${wide} vs ${thin}): fontconfig finds no font, so every label is a box (apt-get install fonts-dejavu-core)`);
  for (const name of ['total_loss', 'loss_sem_seg', 'loss_energy', 'Learning rate', 'ade20k_150_test_sem_seg/sem_seg', 'pc59_val_sem_seg/sem_seg', 'Training metrics: tiny']) {
    assert.ok(r.svg.includes(name), `the SVG does not mention ${name}`);
  }
  assert.ok(r.svg.includes('loss (log scale)'), 'three decades of loss should be drawn on a log axis and say so');
  assert.ok(!r.svg.includes('fwIoU'), 'only */mIoU keys are plotted in the evaluation panel');
});

// Wrong here: a log axis would be used for values with zeros (Vega draws nothing for them) or for
// a narrow range where it only hides the trend; or not used when losses span many decades.
test('log scale only for positive values spanning more than two decades', () => {
  assert.equal(wantsLogScale([[[1, 10], [2, 0.05]]]), true);
  assert.equal(wantsLogScale([[[1, 3]], [[1, 0.02]]]), true, 'the span is over all loss series together');
  assert.equal(wantsLogScale([[[1, 10], [2, 0.2]]]), false);
  assert.equal(wantsLogScale([[[1, 10], [2, 0]]]), false);
});

// Wrong here: a run without evaluations would get an empty mIoU panel, or an mIoU series would be
// named by its whole key instead of its dataset prefix.
test('panels: losses (total_loss first), lr, and mIoU only when present, named by prefix', () => {
  const noEval = buildSpec(parseMetrics(runText())).panels;
  assert.deepEqual(noEval.map((p) => p.title), ['Losses', 'Learning rate']);
  assert.deepEqual(noEval[0]!.series, ['total_loss', 'loss_energy', 'loss_sem_seg']);
  const withEval = buildSpec(parseMetrics(runText({ eval: true }))).panels;
  assert.deepEqual(withEval[2], { title: 'Evaluation mIoU', series: ['ade20k_150_test_sem_seg/sem_seg', 'pc59_val_sem_seg/sem_seg'], logScale: false });
  const plain = buildSpec(parseMetrics(`${JSON.stringify({ iteration: 5, 'sem_seg/mIoU': 30, total_loss: 1, lr: 0.1 })}\n`)).panels;
  assert.deepEqual(plain[2]!.series, ['sem_seg']);
});

// Wrong here: the command would write nothing, or somewhere else than OUTPUT_DIR/metrics.png, or
// leave no SVG beside a custom --out.
test('plotRun writes OUTPUT_DIR/metrics.png and metrics.svg, or --out and its .svg sibling', async () => {
  const d = runDir('run1', runText({ eval: true }) + '{"iteration": 1019, "total_lo');
  const r = await plotRun(d);
  assert.equal(r.png, join(d, 'metrics.png'));
  assert.equal(r.svg, join(d, 'metrics.svg'));
  assert.equal((await sharp(readFileSync(r.png)).metadata()).width, 1200);
  assert.ok(readFileSync(r.svg, 'utf8').startsWith('<svg'));
  assert.equal(r.log.truncatedLastLine, true);
  assert.ok(readFileSync(r.svg, 'utf8').includes('truncated last line skipped'), 'the plot says a line was skipped');
  const out = join(dir, 'elsewhere', 'curves.PNG');
  const r2 = await plotRun(d, { out, width: 800 });
  assert.equal(r2.svg, join(dir, 'elsewhere', 'curves.svg'));
  assert.equal((await sharp(readFileSync(out)).metadata()).width, 800);
  assert.ok(existsSync(r2.svg));
});

// Wrong here: a typo in OUTPUT_DIR, a run that has not logged yet, or a log with nothing to draw
// would crash with a stack trace or produce an empty picture instead of saying what is missing.
test('errors: missing OUTPUT_DIR, missing metrics.json, nothing to plot, bad --out and width', async () => {
  const missing = join(dir, 'no-such-run');
  await assert.rejects(plotRun(missing), isAhsError('AHS_ERR_FILE_NOT_FOUND',
    `${missing} is not a folder; it should be the OUTPUT_DIR of a run of \`ahs-seg train\`, which writes metrics.json there`));
  const empty = join(dir, 'empty-run');
  mkdirSync(empty);
  await assert.rejects(plotRun(empty), isAhsError('AHS_ERR_FILE_NOT_FOUND', `${join(empty, 'metrics.json')} does not exist; \`ahs-seg train\` writes it into its OUTPUT_DIR`));
  const timesOnly = runDir('times-only', `${JSON.stringify({ iteration: 1, time: 0.5, data_time: 0.1, note: 'x' })}\n`);
  await assert.rejects(plotRun(timesOnly), isAhsError('AHS_ERR_FILE_FORMAT',
    `${join(timesOnly, 'metrics.json')} has nothing to plot: no total_loss, loss_*, lr or */mIoU values (1 lines; numeric fields: time, data_time)`));
  await assert.rejects(plotRun(runDir('blank', '')), isAhsError('AHS_ERR_FILE_FORMAT', /has nothing to plot: .*\(0 lines, no numeric fields\)$/));
  const ok = runDir('ok', runText());
  await assert.rejects(plotRun(ok, { out: join(dir, 'x.jpg') }), isAhsError('AHS_ERR_INVALID_ARGUMENT', `--out must name a .png file, got ${join(dir, 'x.jpg')}`));
  await assert.rejects(plotRun(ok, { width: Number('abc') }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'plot width must be an integer from 300 to 10000 pixels, got NaN'));
  assert.ok(!existsSync(join(ok, 'metrics.png')), 'nothing is written when the arguments are wrong');
});
