// `ahs-seg train`: train_net.py's command line (--config-file, --resume, --eval-only, trailing
// KEY VALUE overrides) with detectron2's launch(): --num-workers N CPU processes or --num-gpus N
// (one per CUDA device) on each of --num-machines machines, meeting at --dist-url. This process
// is then the launcher; the processes it starts run this same command as ranks (src/distributed).
import { loadConfig } from '../../config/index.js';
import { distEnvFrom } from '../../distributed/dist_env.js';
import { launch, watchLauncher } from '../../distributed/launch.js';
import { planLaunch, type MachineFacts } from '../../distributed/launch_plan.js';
import { AhsError } from '../../errors.js';
import { checkTrainConfig } from '../../engine/train/check_config.js';
import { runTrain } from '../../engine/train/run_train.js';

export interface TrainCliOptions {
  configFile: string;
  resume?: boolean;
  evalOnly?: boolean;
  numGpus?: number;
  numWorkers?: number;
  numMachines?: number;
  machineRank?: number;
  distUrl?: string;
  datasetRoot?: string;
}

async function machineFacts(): Promise<MachineFacts> {
  const { engineInfo } = await import('../../tensor/index.js');
  const { availableBackends } = await import('../../distributed/process_group.js');
  const info = engineInfo();
  return { cudaAvailable: info.cudaAvailable, cudaDeviceCount: info.cudaDeviceCount, backends: availableBackends() };
}

export async function trainCommand(opts: TrainCliOptions, overrides: string[]): Promise<void> {
  if (overrides.length % 2) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `config overrides come in KEY VALUE pairs; '${overrides[overrides.length - 1]}' has no value`);
  const run = { configFile: opts.configFile, overrides, resume: opts.resume, evalOnly: opts.evalOnly, datasetRoot: opts.datasetRoot };
  const dist = distEnvFrom();
  if (dist) {
    // A rank started by the launcher: stop if it goes away; only rank 0 prints the results.
    watchLauncher(dist.rank);
    const r = await runTrain({ ...run, dist });
    if (dist.rank === 0) report(r);
    return;
  }
  const many = [opts.numWorkers, opts.numGpus, opts.numMachines].some((v) => (v ?? 1) > 1);
  const plan = planLaunch(opts, many ? await machineFacts() : { cudaAvailable: false, cudaDeviceCount: 0, backends: [] });
  if (plan.worldSize === 1) {
    report(await runTrain(run));
    return;
  }
  // Config errors once, here, before any process starts.
  const cfg = loadConfig(opts.configFile, overrides);
  if (!opts.evalOnly) {
    checkTrainConfig(cfg);
    const per = plan.worldSize * cfg.SOLVER.GRAD_ACCUM_STEPS;
    if (cfg.SOLVER.IMS_PER_BATCH % per !== 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.IMS_PER_BATCH ${cfg.SOLVER.IMS_PER_BATCH} (the global batch) must be a multiple of ${plan.worldSize} processes x SOLVER.GRAD_ACCUM_STEPS ${cfg.SOLVER.GRAD_ACCUM_STEPS}`);
  }
  process.stderr.write(`[launch] ${plan.localWorldSize} ${plan.backend === 'nccl' ? 'GPU' : 'CPU'} process${plan.localWorldSize === 1 ? '' : 'es'} on machine ${plan.machineRank} of ${plan.numMachines} (ranks ${plan.machineRank * plan.localWorldSize}..${(plan.machineRank + 1) * plan.localWorldSize - 1} of ${plan.worldSize}), ${plan.backend}${plan.threadsPerProcess !== null ? `, ${process.env.AHS_SEG_THREADS ?? plan.threadsPerProcess} thread${(process.env.AHS_SEG_THREADS ?? String(plan.threadsPerProcess)) === '1' ? '' : 's'} each` : ''}\n`);
  await launch({ plan, execArgv: process.execArgv, argv: process.argv.slice(1) });
}

function report(r: Awaited<ReturnType<typeof runTrain>>): void {
  if (r.checkpoint) process.stdout.write(`checkpoint: ${r.checkpoint}\n`);
  for (const [name, res] of r.results) process.stdout.write(`${name}: mIoU ${res.sem_seg.mIoU?.toFixed(2)}\n`);
}
