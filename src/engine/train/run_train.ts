// `ahs-seg train`: what CAT-Seg's train_net.py main() does with detectron2's DefaultTrainer —
// config, seed, model, weights (resume, MODEL.WEIGHTS or pretrained CLIP), datasets, loader,
// optimizer, hooks — and `--eval-only`.
import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { dumpConfig, loadConfig, type AhsConfig } from '../../config/index.js';
import type { SegDataset } from '../../data/sample.js';
import type { DistEnv } from '../../distributed/dist_env.js';
import { semanticMapperOptionsFromConfig, type SemanticMapperOptions } from '../../data/semantic_mapper.js';
import { AhsError } from '../../errors.js';
import { buildModel } from '../../models/registry.js';
import type { BuiltModel } from '../../models/seg_model.js';
import { checkDevice, dispose, engineInfo, manualSeed, type Device } from '../../tensor/index.js';
import { resolveClipWeights } from '../clip_weights.js';
import { evaluateDataset, flattenResults } from '../evaluate_dataset.js';
import type { SemSegResults } from '../../eval/sem_seg_metrics.js';
import { buildGradClipper, buildOptimizer } from './build_optimizer.js';
import { Checkpointer, readTrainCheckpoint } from './checkpointer.js';
import { checkTrainConfig } from './check_config.js';
import { prepareOutputDir } from '../../io/output_location.js';
import { checkCatSegModelFits } from '../model_memory.js';
import { memoryLimitBytes } from '../memory_budget.js';
import { EvalHook, LrSchedulerHook, PeriodicCheckpointerHook, PeriodicWriterHook } from './hooks.js';
import { lrMultiplierFromConfig } from './lr_scheduler.js';
import { MemoryCacheHook } from './memory_cache_hook.js';
import { rankState, restoreTrainerState, savedRankState, trainerState } from './trainer_state.js';
import { joinTrainWorld, singleProcess, type TrainWorld } from './train_world.js';
import { Trainer } from './trainer.js';
import { openTrainingData, resolveTrainDatasets, resolveTestDatasets } from './training_data.js';

export interface TrainRunOptions {
  configFile: string;
  overrides?: string[];
  resume?: boolean;
  evalOnly?: boolean;
  /** Dataset root for registered names (default $DETECTRON2_DATASETS, else ./datasets). */
  datasetRoot?: string;
  log?: (line: string) => void;
  /** This process's place in a launched data-parallel run (src/distributed/launch.ts); absent: one process. */
  dist?: DistEnv;
}

export interface TrainRunResult {
  outputDir: string;
  /** The checkpoint written last (model_final after a complete run). */
  checkpoint: string | null;
  results: Map<string, SemSegResults>;
}

/** Which device one process trains on: MODEL.DEVICE, or the CPU when CUDA is asked for but absent
 * (detectron2 fails there; a CPU run of the same config is more useful than an error). */
function trainingDevice(cfg: AhsConfig, log: (l: string) => void): Device {
  const want = cfg.MODEL.DEVICE;
  if (want === 'cpu') return 'cpu';
  if (!/^cuda(:\d+)?$/.test(want)) throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.DEVICE must be cpu, cuda or cuda:N, got '${want}'`);
  if (!engineInfo().cudaAvailable) {
    log(`[train] MODEL.DEVICE is '${want}' but the linked libtorch sees no CUDA device: training on the CPU`);
    return 'cpu';
  }
  return checkDevice(want) as Device; // names a visible device, or AHS_ERR_DEVICE
}

/** Model weights at the start of a run: MODEL.WEIGHTS (fine-tuning) or the pretrained CLIP. */
async function initialWeights(built: BuiltModel, cfg: AhsConfig, log: (l: string) => void): Promise<void> {
  if (cfg.MODEL.WEIGHTS) {
    const r = built.loadCheckpoint(cfg.MODEL.WEIGHTS, { strict: false });
    log(`[train] initialised from MODEL.WEIGHTS ${cfg.MODEL.WEIGHTS}${r.text ? `:\n${r.text}` : ''}`);
    return;
  }
  const path = await resolveClipWeights(built.pretrained.source);
  const r = built.pretrained.load(path);
  if (r.missing.length || r.mismatched.length) {
    throw new AhsError('AHS_ERR_STATE_DICT', `pretrained CLIP ${path} does not fit the model: ${r.missing.length} missing, ${r.mismatched.length} mis-shaped keys (e.g. ${[...r.missing, ...r.mismatched.map((m) => m.key)].slice(0, 3).join(', ')})`);
  }
  log(`[train] CLIP initialised from ${path}`);
}

export async function runTrain(opts: TrainRunOptions): Promise<TrainRunResult> {
  const anyLog = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const cfg = loadConfig(opts.configFile, opts.overrides ?? []);
  if (!opts.evalOnly) checkTrainConfig(cfg);
  const device = trainingDevice(cfg, anyLog);
  const world = opts.dist ? await joinTrainWorld(opts.dist, cfg) : singleProcess(device);
  try {
    const r = await runTrainIn(world, cfg, opts, world.isMain ? anyLog : () => undefined);
    await world.close();
    return r;
  } catch (err) {
    world.abandon();
    throw err;
  }
}

/** Only rank 0 logs and writes; every rank computes. */
async function runTrainIn(world: TrainWorld, cfg: AhsConfig, opts: TrainRunOptions, log: (l: string) => void): Promise<TrainRunResult> {
  const outputDir = resolve(cfg.OUTPUT_DIR);
  if (world.isMain) prepareOutputDir(outputDir, 'OUTPUT_DIR'); // a file there, or a read-only folder, fails now
  checkCatSegModelFits(cfg, opts.configFile, memoryLimitBytes() / world.localWorldSize); // each process holds a model
  const checkpointer = new Checkpointer(outputDir);
  if (world.isMain) checkpointer.removeStaleTemporaries();
  const last = opts.resume ? checkpointer.lastCheckpoint() : null;
  if (opts.resume) await world.checkSame(last, 'the checkpoint to resume from', '--resume needs OUTPUT_DIR on a filesystem every machine shares, at the same path');
  if (opts.resume && !last) log(`[train] --resume: no checkpoint in ${outputDir}, starting a new run`);
  const saved = last ? readTrainCheckpoint(last) : null;
  // One seed for the run (rank 0's draw when SEED < 0): it keys the shared data stream. Each
  // process's generators start from seed + rank, as detectron2's default_setup.
  const [seed] = await world.allGather(saved?.state.seed ?? (cfg.SEED >= 0 ? cfg.SEED : randomInt(2 ** 31)), 'the seed');
  manualSeed(seed! + world.rank);
  log(`[train] seed ${seed}${cfg.SEED < 0 && !saved ? ' (SEED < 0: drawn at random)' : ''}${world.worldSize > 1 ? `; ${world.worldSize} processes` : ''}`);

  // Datasets first: a bad dataset fails in seconds, before weights are downloaded or built (the
  // test sets only when something will evaluate on them).
  const testSets = opts.evalOnly || cfg.TEST.EVAL_PERIOD > 0 ? await resolveTestDatasets(cfg, opts.datasetRoot) : [];
  const train = opts.evalOnly ? null : await resolveTrainDatasets(cfg, opts.datasetRoot, log);
  const mapper = train ? semanticMapperOptionsFromConfig(cfg, train.ignoreLabel) : null; // checks INPUT.*
  const built = buildModel(cfg, { textCacheDir: null });
  for (const w of built.warnings ?? []) log(`[warning] ${w}`);
  const { model } = built;
  try {
    if (saved) {
      model.loadStateDict(saved.model, { strict: true, source: last! });
    } else if (opts.evalOnly) {
      if (!cfg.MODEL.WEIGHTS) throw new AhsError('AHS_ERR_CONFIG_VALUE', '--eval-only evaluates MODEL.WEIGHTS, which is empty: give MODEL.WEIGHTS path/to/model_final.safetensors (or --resume to evaluate the last checkpoint)');
      if (world.isMain) {
        const r = built.loadCheckpoint(cfg.MODEL.WEIGHTS, { strict: true });
        if (r.text) log(r.text);
      }
    } else if (world.isMain) {
      await initialWeights(built, cfg, log); // the other processes take these weights from rank 0
    }
    // Weights are read on the CPU; the model moves once, before rank 0's state is broadcast (NCCL
    // broadcasts device tensors) and before the optimizer makes its state like the parameters.
    model.to(world.device);
    if (world.device !== 'cpu') log(`[train] on ${world.device}`);
    await world.dp?.broadcastState([...model.namedParameters(), ...model.namedBuffers()]);
    const evaluate = async (): Promise<Map<string, SemSegResults>> => {
      const labeler = built.predictor(cfg.TEST.SLIDING_WINDOW ? 'sliding' : 'whole');
      const out = new Map<string, SemSegResults>();
      for (const ds of testSets) {
        const r = await evaluateDataset(labeler, ds, { outDir: world.isMain ? join(outputDir, 'inference') : undefined, model: 'model', shard: world.evalShard() });
        out.set(ds.name, r);
        log(`[eval] ${ds.name}: ${ds.items.length} images, mIoU ${r.sem_seg.mIoU?.toFixed(2)}`);
      }
      return out;
    };
    if (opts.evalOnly) {
      if (testSets.length === 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', '--eval-only: DATASETS.TEST is empty');
      model.eval();
      return { outputDir, checkpoint: last, results: await evaluate() };
    }
    return await trainLoop(cfg, built, train!, mapper!, { world, checkpointer, seed: seed!, saved, savedPath: last, outputDir, testSets, evaluate, log });
  } finally {
    if (saved) { dispose([...saved.model.values()]); dispose([...saved.optimizer.values()]); }
    model.dispose();
  }
}

interface LoopContext {
  world: TrainWorld;
  checkpointer: Checkpointer;
  seed: number;
  saved: ReturnType<typeof readTrainCheckpoint> | null;
  savedPath: string | null;
  outputDir: string;
  testSets: SegDataset[];
  evaluate: () => Promise<Map<string, SemSegResults>>;
  log: (l: string) => void;
}

async function trainLoop(cfg: AhsConfig, built: BuiltModel, train: SegDataset, mapper: SemanticMapperOptions, c: LoopContext): Promise<TrainRunResult> {
  const { model } = built;
  const s = cfg.SOLVER;
  const { world } = c;
  const accum = s.GRAD_ACCUM_STEPS;
  if (!(accum >= 1) || s.IMS_PER_BATCH % accum !== 0) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.GRAD_ACCUM_STEPS ${accum} must be a positive divisor of SOLVER.IMS_PER_BATCH ${s.IMS_PER_BATCH}`);
  }
  // IMS_PER_BATCH is the global batch (detectron2): each process takes its share of it.
  if (s.IMS_PER_BATCH % (accum * world.worldSize) !== 0) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.IMS_PER_BATCH ${s.IMS_PER_BATCH} (the global batch) must be a multiple of ${world.worldSize} processes x SOLVER.GRAD_ACCUM_STEPS ${accum}`);
  }
  const own = c.saved ? savedRankState(c.saved, c.savedPath!, world.rank, world.worldSize) : null;
  const optimizer = buildOptimizer(model, cfg);
  const data = await openTrainingData(cfg, train, mapper, { seed: c.seed, batchSize: s.IMS_PER_BATCH / (accum * world.worldSize), resume: own?.loader, rank: world.rank, worldSize: world.worldSize, device: world.device });
  let checkpoint: string | null = null;
  const results = new Map<string, SemSegResults>();
  try {
    const startIter = c.saved ? restoreTrainerState(c.saved, optimizer, own!) + 1 : 0;
    if (startIter >= s.MAX_ITER) {
      c.log(`[train] the last checkpoint is at iteration ${startIter} of SOLVER.MAX_ITER ${s.MAX_ITER}: nothing left to train`);
      return { outputDir: c.outputDir, checkpoint: c.checkpointer.lastCheckpoint(), results };
    }
    if (world.isMain) dumpConfig(cfg, join(c.outputDir, 'config.yaml'));
    const trainer = new Trainer({ model, optimizer, data, lossWeights: built.lossWeights, clipGradients: buildGradClipper(cfg), accumulationSteps: accum, sync: world.dp ?? undefined });
    const save = async (name: string, t: Trainer): Promise<void> => {
      // Every process's generators and data position go into rank 0's file.
      const ranks = world.worldSize > 1 ? await world.allGather(rankState(data.state()), 'the generator states and loader positions') : undefined;
      if (!world.isMain) return;
      const st = trainerState(t.iter, c.seed, optimizer, data.state(), ranks);
      checkpoint = await c.checkpointer.save(name, model.stateDict(), optimizer.stateDict().tensors, st, cfg.toYAML());
    };
    trainer.register(
      new MemoryCacheHook(c.log),
      new LrSchedulerHook(s.BASE_LR, lrMultiplierFromConfig(cfg)),
      new PeriodicCheckpointerHook(s.CHECKPOINT_PERIOD, save),
      new EvalHook(c.testSets.length ? cfg.TEST.EVAL_PERIOD : 0, async () => {
        const r = await c.evaluate();
        for (const [k, v] of r) results.set(k, v);
        return flattenResults(r);
      }),
      new PeriodicWriterHook({ period: s.LOG_PERIOD, metricsPath: world.isMain ? join(c.outputDir, 'metrics.json') : null, imagesPerStep: s.IMS_PER_BATCH, log: c.log }),
    );
    const split = world.worldSize > 1 ? ` (${s.IMS_PER_BATCH / world.worldSize} in each of ${world.worldSize} processes)` : '';
    if (world.dp) c.log(`[train] ${world.dp.describeBuckets(model.trainableParameters().map(([, t]) => t))}`);
    c.log(`[train] ${train.items.length} training images, ${train.classNames.length} classes; iterations ${startIter}..${s.MAX_ITER - 1}, ${s.IMS_PER_BATCH} images per step${split}${accum > 1 ? ` in ${accum} micro-batches` : ''}`);
    await trainer.train(startIter, s.MAX_ITER);
    return { outputDir: c.outputDir, checkpoint, results };
  } finally {
    await data.close();
    optimizer.dispose();
  }
}

