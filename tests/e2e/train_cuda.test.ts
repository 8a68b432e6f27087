// `ahs-seg train` with MODEL.DEVICE cuda on a tiny CAT-Seg: runs where the linked libtorch sees a
// GPU, skipped elsewhere (CI has none; see the device notes in the README). Wrong here: some part
// of the training path (batches, model, optimizer, checkpoints, resume, evaluation) still assumes
// the CPU, so a GPU run fails, does not learn, or writes checkpoints the CPU cannot read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runTrain } from '../../src/engine/train/run_train.js';
import { loadTensors } from '../../src/io/tensor_io.js';
import { dispose, engineInfo } from '../../src/tensor/index.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { trainingWorkspace } from '../helpers/training_workspace.js';

const cuda = engineInfo().cudaAvailable;
// The workspace (a dataset and weights written before the tests) only where the tests run.
const ws = cuda ? trainingWorkspace('ahs-train-cuda-') : (null as never);

describe('ahs-seg train on CUDA', { skip: cuda ? false : 'no CUDA device visible to the linked libtorch' }, () => {
  it('trains, evaluates, checkpoints and resumes on cuda:0; the checkpoint evaluates on the CPU', async () => {
    const logs: string[] = [];
    const over = ['MODEL.DEVICE', 'cuda:0', 'SOLVER.MAX_ITER', '60', 'TEST.EVAL_PERIOD', '60', 'SOLVER.CHECKPOINT_PERIOD', '30', 'DATALOADER.NUM_WORKERS', '2'];
    const r = await runTrain({ configFile: ws.configFor('cuda'), overrides: over, log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => l === '[train] on cuda:0'), logs.slice(0, 5).join('\n'));
    const miou = r.results.get([...r.results.keys()][0]!)!.sem_seg.mIoU!;
    assert.ok(miou > 40, `mIoU after 60 iterations on CUDA: ${miou}`);
    const t = loadTensors(r.checkpoint!).tensors;
    for (const [k, v] of t) assert.ok(v.isfinite().all().item(), `${k} is not finite`);
    dispose([...t.values()]);
    const resumed = await runTrain({ configFile: ws.configFor('cuda'), overrides: [...over.slice(0, 2), 'SOLVER.MAX_ITER', '70', ...over.slice(4)], resume: true, log: () => undefined });
    assert.ok(resumed.checkpoint?.endsWith('model_final.safetensors'));
    const ev = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'train', '--config-file', join(ws.dir, 'cuda.yaml'), '--eval-only',
      'MODEL.DEVICE', 'cpu', 'MODEL.WEIGHTS', r.checkpoint!], { encoding: 'utf8' });
    assert.equal(ev.status, 0, ev.stderr);
    assert.match(ev.stdout, /mIoU/);
  });
});
