import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { ResumableRun } from '../../../src/eval/resumable_run.js';
import { SemSegEvaluator } from '../../../src/eval/sem_seg_evaluator.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ahs-resume-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fresh = (): SemSegEvaluator => new SemSegEvaluator({ classNames: ['a', 'b'], ignoreLabel: 255 });
const IMAGES: Array<[string, Int32Array, Uint8Array]> = [
  ['k1', Int32Array.from([0, 1]), Uint8Array.from([0, 1])],
  ['k2', Int32Array.from([1, 1]), Uint8Array.from([0, 255])],
  ['k3', Int32Array.from([0, 0]), Uint8Array.from([1, 1])],
];

describe('ResumableRun', () => {
  it('snapshots every k images and resumes from the last snapshot', async () => {
    const statePath = join(dir, 'state.json');
    const fingerprint = { benchmark: 'toy', pred: '/p' };
    const run = await ResumableRun.open({ statePath, evaluator: fresh(), fingerprint, every: 2 });
    for (const [k, p, g] of IMAGES) await run.process(p, g, k);
    // 3 images with every=2: the snapshot holds the first two only (k3 is lost in a crash).
    const saved = JSON.parse(await readFile(statePath, 'utf8'));
    assert.deepEqual(saved.evaluator.keys, ['k1', 'k2']);

    const ev = fresh();
    const resumed = await ResumableRun.open({ statePath, evaluator: ev, fingerprint: { pred: '/p', benchmark: 'toy' }, every: 2 });
    assert.equal(resumed.resumedImages, 2);
    assert.ok(resumed.isDone('k2') && !resumed.isDone('k3'));
    await resumed.process(IMAGES[2]![1], IMAGES[2]![2], 'k3');
    await resumed.save();

    const straight = fresh();
    for (const [k, p, g] of IMAGES) straight.process(p, g, k);
    // Would differ if the snapshot had lost or double-counted an image.
    assert.deepEqual(Array.from(ev.confusionMatrix.counts), Array.from(straight.confusionMatrix.counts));
    assert.deepEqual(ev.evaluate(), straight.evaluate());
  });

  it('refuses a state saved for another run, naming the differing fields', async () => {
    const statePath = join(dir, 'other.json');
    const run = await ResumableRun.open({ statePath, evaluator: fresh(), fingerprint: { benchmark: 'toy', pred: '/p' } });
    await run.save();
    await assert.rejects(
      ResumableRun.open({ statePath, evaluator: fresh(), fingerprint: { benchmark: 'toy', pred: '/q' } }),
      (e: unknown) => e instanceof AhsError && e.message.includes(`resume state '${statePath}' belongs to a different run (differs in pred)`),
    );
    // resume: false starts over instead.
    const restarted = await ResumableRun.open({ statePath, evaluator: fresh(), fingerprint: { pred: '/q' }, resume: false });
    assert.equal(restarted.resumedImages, 0);
  });

  it('reports a corrupt state file', async () => {
    const statePath = join(dir, 'corrupt.json');
    await writeFile(statePath, '{"format":');
    await assert.rejects(
      ResumableRun.open({ statePath, evaluator: fresh(), fingerprint: {} }),
      (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_FILE_FORMAT' && e.message.startsWith(`resume state '${statePath}' is not valid JSON`),
    );
  });
});
