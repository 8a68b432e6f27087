// `ahs-seg plot OUTPUT_DIR`: draw a training run's losses, learning rate and evaluation mIoU.
import { plotRun } from '../../engine/plot_metrics.js';
import { prepareOutputFile } from '../../io/output_location.js';

export async function plot(outputDir: string, opts: { out?: string; width?: number }): Promise<void> {
  if (opts.out !== undefined && /\.png$/i.test(opts.out)) prepareOutputFile(opts.out, '--out');
  const r = await plotRun(outputDir, { ...(opts.out ? { out: opts.out } : {}), ...(opts.width !== undefined ? { width: opts.width } : {}) });
  const notes = [
    r.log.truncatedLastLine ? 'skipped a truncated last line' : '',
    r.log.nonFinite ? `left out ${r.log.nonFinite} NaN/Infinity values` : '',
  ].filter(Boolean);
  process.stdout.write(`${r.log.path}: ${r.log.lines} lines, ${r.panels.map((p) => `${p.title} (${p.series.join(', ')}${p.logScale ? '; log scale' : ''})`).join('; ')}`
    + `${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
  process.stdout.write(`wrote ${r.png}, ${r.svg}\n`);
}
