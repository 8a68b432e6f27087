import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BENCHMARKS } from '../../../../src/data/benchmarks.js';
import { PREPARE_DATASETS, PREPARE_NAMES, getPrepareDataset, prepareDataset } from '../../../../src/data/prepare/index.js';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { H, W, rejectsWith, tempDir, writeGreyPng, writeJpeg } from './fixtures.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
let dir: string;
before(async () => {
  dir = await tempDir('index');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('prepare dispatch', () => {
  it('knows the six datasets and each produces benchmarks the evaluator knows', () => {
    // If this fails, a converter writes labels for a benchmark name src/data/benchmarks.ts lacks.
    assert.deepEqual([...PREPARE_NAMES], ['coco-stuff', 'ade150', 'ade847', 'pc59', 'pc459', 'voc']);
    for (const d of Object.values(PREPARE_DATASETS)) for (const b of d.benchmarks) assert.ok(b in BENCHMARKS, `${d.name}: ${b}`);
  });

  it('lists the choices for an unknown name and checks the options', async () => {
    // If this fails, a typo or an empty --src gets past validation and fails later, obscurely.
    assert.throws(() => getPrepareDataset('ade20k'), /unknown dataset 'ade20k'.*coco-stuff, ade150, ade847, pc59, pc459, voc/);
    await rejectsWith(prepareDataset('voc', { src: '', root: dir }), 'AHS_ERR_INVALID_ARGUMENT', '--src');
    await rejectsWith(prepareDataset('voc', { src: dir, root: dir, concurrency: 0 }), 'AHS_ERR_INVALID_ARGUMENT', 'concurrency');
  });

  it('writes where the evaluator reads (BENCHMARKS.labelDir), e.g. for ade150', async () => {
    // If this fails, `prepare` and `eval` disagree about the layout and eval finds no labels.
    const src = join(dir, 'ADEChallengeData2016');
    await writeGreyPng(join(src, 'annotations', 'validation', 'ADE_val_1.png'), new Array(W * H).fill(1));
    await writeJpeg(join(src, 'images', 'validation', 'ADE_val_1.jpg'));
    const root = join(dir, 'datasets');
    await prepareDataset('ade150', { src: dir, root, concurrency: 2 });
    const b = BENCHMARKS.ade150;
    const lab = await readLabelMap(join(root, b.labelDir, `ADE_val_1${b.labelExt}`));
    assert.ok(lab.data.every((v) => v === 0));
  });

  it('the CLI refuses an unknown dataset with the list and exit code 1', async () => {
    const run = promisify(execFile);
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'prepare', 'nope', '--src', dir], { cwd: REPO }),
      (err: { code?: number; stderr?: string }) => {
        // If this fails, a typo gives a stack trace instead of the valid names.
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? '', /AHS_ERR_INVALID_ARGUMENT: unknown dataset 'nope'.*coco-stuff, ade150, ade847, pc59, pc459, voc/);
        return true;
      },
    );
  });
});
