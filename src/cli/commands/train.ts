// `ahs-seg train`: train_net.py's command line (--config-file, --resume, --eval-only, trailing
// KEY VALUE overrides). One process for now: --num-gpus and --num-machines above 1 are refused.
import { AhsError } from '../../errors.js';
import { runTrain } from '../../engine/train/run_train.js';

export interface TrainCliOptions {
  configFile: string;
  resume?: boolean;
  evalOnly?: boolean;
  numGpus?: number;
  numMachines?: number;
  machineRank?: number;
  distUrl?: string;
  datasetRoot?: string;
}

export async function trainCommand(opts: TrainCliOptions, overrides: string[]): Promise<void> {
  for (const [flag, v] of [['--num-gpus', opts.numGpus], ['--num-machines', opts.numMachines]] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${flag} must be a positive integer, got ${v}`);
    if (v > 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${flag} ${v}: data-parallel training over several processes is not available yet; train on one process (IMS_PER_BATCH is the global batch, and SOLVER.GRAD_ACCUM_STEPS splits it into micro-batches)`);
  }
  if (opts.machineRank !== undefined && opts.machineRank !== 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--machine-rank ${opts.machineRank}: a one-machine run has only rank 0`);
  if (overrides.length % 2) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `config overrides come in KEY VALUE pairs; '${overrides[overrides.length - 1]}' has no value`);
  const r = await runTrain({ configFile: opts.configFile, overrides, resume: opts.resume, evalOnly: opts.evalOnly, datasetRoot: opts.datasetRoot });
  if (r.checkpoint) process.stdout.write(`checkpoint: ${r.checkpoint}\n`);
  for (const [name, res] of r.results) process.stdout.write(`${name}: mIoU ${res.sem_seg.mIoU?.toFixed(2)}\n`);
}
