// `ahs-seg prepare <dataset> --src DOWNLOAD --root DATASETS`: CAT-Seg's datasets/prepare_*.py in
// TypeScript (see src/data/prepare/index.ts).
import { resolve } from 'node:path';
import { getPrepareDataset, prepareDataset } from '../../data/prepare/index.js';
import { createProgressReporter } from '../../progress.js';
import { prepareOutputDir } from '../../io/output_location.js';

export interface PrepareCommandOptions {
  src: string;
  root?: string;
  jobs?: number;
}

export async function prepareCommand(name: string, opts: PrepareCommandOptions): Promise<void> {
  const ds = getPrepareDataset(name); // validates the name before any file is touched
  const root = opts.root ?? process.env.DETECTRON2_DATASETS ?? 'datasets';
  prepareOutputDir(root, opts.root !== undefined ? '--root' : process.env.DETECTRON2_DATASETS ? 'DETECTRON2_DATASETS' : 'the datasets root');
  const report = createProgressReporter({ unit: { name: 'img', scale: 1, decimals: 0 } });
  const res = await prepareDataset(ds.name, {
    src: opts.src, root, ...(opts.jobs !== undefined ? { concurrency: opts.jobs } : {}),
    onProgress: (p) => report({ file: p.task, received: p.done, total: p.total }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const written = res.tasks.reduce((n, t) => n + t.written, 0);
  const skipped = res.tasks.reduce((n, t) => n + t.skipped, 0);
  process.stdout.write(`${ds.name}: ${written} files written, ${skipped} already done, under ${resolve(root)} ` +
    `(benchmarks: ${ds.benchmarks.join(', ')})\n`);
}
