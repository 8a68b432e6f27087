// Training checkpoints: one file holds model, optimizer and trainer state; a write that fails half
// way (disk full) leaves the previous checkpoint and last_checkpoint untouched and says so; the
// model part loads as plain weights; the generator state round-trips exactly.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Checkpointer, readTrainCheckpoint, type TrainerState } from '../../../src/engine/train/checkpointer.js';
import { loadCatSegCheckpoint } from '../../../src/models/catseg/checkpoint.js';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import { writeSafetensors } from '../../../src/io/safetensors.js';
import { dispose, manualSeed, rand, rngState, setRngState, tensor, tidy } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ahs-ckpt-')); dirs.push(d); return d; };
const state = (iteration: number): TrainerState => ({ iteration, seed: 1, optimizer: { kind: 'AdamW', meta: { x: iteration } }, rng: {}, loader: { next: iteration } });

describe('Checkpointer', () => {
  // Wrong here: a half-written checkpoint replaced the good one, last_checkpoint points at a
  // broken file, a temp file is left behind, or the error hides what happened.
  it('a save that fails half way (disk full) keeps the previous checkpoint loadable', async () => {
    const dir = tmp();
    const w = new Map([['w', tensor([1, 2, 3])]]);
    const opt = new Map([['w.exp_avg', tensor([0.5, 0.5, 0.5])]]);
    const ok = new Checkpointer(dir);
    const first = await ok.save('model_0000001', w, opt, state(1), 'SEED: 1\n');
    // A writer that gets half the bytes out, then the disk is full (what writeSafetensors sees).
    const failing = new Checkpointer(dir, (path) => {
      const fd = openSync(`${path}.tmp-${process.pid}`, 'w');
      writeSync(fd, Buffer.alloc(100));
      closeSync(fd);
      rmSync(`${path}.tmp-${process.pid}`);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    await assert.rejects(failing.save('model_0000003', w, opt, state(3), ''), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'AHS_ERR_WRITE');
      assert.match(e.message, /model_0000003\.safetensors: the disk is full; the previous checkpoint .*model_0000001\.safetensors is intact/);
      return true;
    });
    assert.equal(readFileSync(join(dir, 'last_checkpoint'), 'utf8'), 'model_0000001.safetensors');
    assert.equal(ok.lastCheckpoint(), first);
    assert.ok(!existsSync(join(dir, 'model_0000003.safetensors')));
    const back = readTrainCheckpoint(first);
    assert.deepEqual([...back.model.get('w')!.data<'float32'>()], [1, 2, 3]);
    assert.deepEqual([...back.optimizer.get('w.exp_avg')!.data<'float32'>()], [0.5, 0.5, 0.5]);
    assert.deepEqual(back.state, state(1));
    assert.equal(back.config, 'SEED: 1\n');
    dispose([...back.model.values(), ...back.optimizer.values(), ...w.values(), ...opt.values()]);
  });

  // Wrong here: a killed write's temp file survives into the next run's folder listing.
  it('removes temp files of writes that were killed', () => {
    const dir = tmp();
    const c = new Checkpointer(dir);
    writeSafetensors(join(dir, 'model_final.safetensors'), new Map(), {});
    const stale = join(dir, 'model_0000009.safetensors.tmp-12345');
    closeSync(openSync(stale, 'w'));
    c.removeStaleTemporaries();
    assert.deepEqual(readdirSync(dir).sort(), ['model_final.safetensors']);
  });

  // Wrong here: a training checkpoint cannot be used as weights (eval/segment would reject it
  // for its optimizer keys), or a plain weights file is taken for a resumable checkpoint.
  it('the checkpoint loads strictly as CAT-Seg weights; plain weights are refused for resume', async () => {
    const dir = tmp();
    manualSeed(2);
    const a = new CATSeg(tinyCatSegOptions('attention'));
    const optT = new Map([['g.exp_avg', tensor([1])]]);
    const path = await new Checkpointer(dir).save('model_final', a.stateDict(), optT, state(9), '');
    manualSeed(3);
    const b = new CATSeg(tinyCatSegOptions('attention'));
    const r = loadCatSegCheckpoint(b, path, { strict: true });
    assert.equal(r.unexpected.length, 0);
    const w = 'sem_seg_head.predictor.transformer.conv1.weight';
    assert.ok(tidy(() => a.stateDict().get(w)!.equal(b.stateDict().get(w)!)));
    const plain = join(dir, 'plain.safetensors');
    writeSafetensors(plain, new Map(), {});
    assert.throws(() => readTrainCheckpoint(plain), /not an ahs-seg training checkpoint.*set MODEL.WEIGHTS/);
    a.dispose(); b.dispose(); dispose([...optT.values()]);
  });

  // Wrong here: restoring the generator does not reproduce the draws (a resumed run's random
  // initialisations and dropouts would differ).
  it('rngState / setRngState reproduce the CPU generator exactly', () => {
    manualSeed(7);
    const s = rngState();
    const x = rand([5]);
    rand([3]);
    setRngState(s);
    const y = rand([5]);
    assert.deepEqual([...y.data<'float32'>()], [...x.data<'float32'>()]);
    dispose([x, y]);
  });
});
