// The launcher's plan and the variables it hands each process: detectron2's launch() options
// (processes per machine, machines, machine rank, dist URL) with every refusal naming the option.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distEnvFrom, distEnvVars } from '../../../src/distributed/dist_env.js';
import { planLaunch, type MachineFacts } from '../../../src/distributed/launch_plan.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const CPU: MachineFacts = { cudaAvailable: false, cudaDeviceCount: 0, backends: ['gloo'], cores: 8 };

describe('planLaunch', () => {
  // Wrong here: the world size, ranks, backend or thread split of a CPU run are wrong.
  it('--num-workers: CPU processes on gloo with the cores split between them', () => {
    assert.deepEqual(planLaunch({ numWorkers: 2 }, CPU), { localWorldSize: 2, numMachines: 1, machineRank: 0, worldSize: 2, backend: 'gloo', url: 'auto', threadsPerProcess: 4 });
    assert.equal(planLaunch({ numWorkers: 3 }, CPU).threadsPerProcess, 2);
    assert.equal(planLaunch({ numWorkers: 16 }, CPU).threadsPerProcess, 1);
    assert.equal(planLaunch({}, CPU).worldSize, 1);
    assert.deepEqual(planLaunch({ numWorkers: 2, numMachines: 3, machineRank: 2, distUrl: 'tcp://10.0.0.5:29500' }, CPU),
      { localWorldSize: 2, numMachines: 3, machineRank: 2, worldSize: 6, backend: 'gloo', url: 'tcp://10.0.0.5:29500', threadsPerProcess: 4 });
  });

  // Wrong here: a run that cannot work is started anyway (and fails later, less clearly).
  it('refuses GPUs without CUDA, too few devices, a machine rank out of range and auto across machines', () => {
    assert.throws(() => planLaunch({ numGpus: 2 }, CPU), isAhsError('AHS_ERR_DEVICE', /^--num-gpus 2: the linked libtorch sees no CUDA device .*--num-workers 2/));
    assert.throws(() => planLaunch({ numGpus: 4 }, { cudaAvailable: true, cudaDeviceCount: 2, backends: ['gloo', 'nccl'] }), isAhsError('AHS_ERR_DEVICE', '--num-gpus 4: this machine has 2 CUDA devices'));
    assert.throws(() => planLaunch({ numGpus: 2 }, { cudaAvailable: true, cudaDeviceCount: 2, backends: ['gloo'] }), isAhsError('AHS_ERR_DEVICE', /^--num-gpus 2: the native addon was built without NCCL/));
    assert.equal(planLaunch({ numGpus: 2 }, { cudaAvailable: true, cudaDeviceCount: 2, backends: ['gloo', 'nccl'] }).backend, 'nccl');
    assert.throws(() => planLaunch({ numWorkers: 2, numGpus: 2 }, CPU), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--num-workers 2 and --num-gpus 2: give one of them/));
    assert.throws(() => planLaunch({ machineRank: 1 }, CPU), isAhsError('AHS_ERR_INVALID_ARGUMENT', '--machine-rank 1 must be below --num-machines 1 (machines are numbered 0..0)'));
    assert.throws(() => planLaunch({ numMachines: 2 }, CPU), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--dist-url auto works on one machine only/));
    assert.throws(() => planLaunch({ numWorkers: 2, distUrl: 'localhost:29500' }, CPU), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--dist-url 'localhost:29500' is neither/));
    assert.throws(() => planLaunch({ numWorkers: 2 }, { ...CPU, backends: [] }), isAhsError('AHS_ERR_DEVICE', /built without gloo/));
  });
});

describe('launcher environment', () => {
  // Wrong here: a launched process would read another rank or world than the launcher meant.
  it('round-trips through the variables and refuses inconsistent ones', () => {
    const d = { rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2, url: 'tcp://h:1', backend: 'gloo' as const };
    assert.deepEqual(distEnvFrom(distEnvVars(d)), d);
    assert.equal(distEnvFrom({}), null);
    assert.throws(() => distEnvFrom({ ...distEnvVars(d), AHS_SEG_RANK: '4' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'launcher variables are inconsistent: rank 4 of 4, local rank 1 of 2'));
    assert.throws(() => distEnvFrom({ ...distEnvVars(d), AHS_SEG_WORLD_SIZE: 'x' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', "AHS_SEG_WORLD_SIZE must be a non-negative integer (set by the launcher), got 'x'"));
  });
});
