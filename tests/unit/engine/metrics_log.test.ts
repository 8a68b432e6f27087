// metrics.json (detectron2 JSONWriter lines) into series: resumed runs, killed runs, bad lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetrics, readMetrics } from '../../../src/engine/metrics_log.js';
import { isAhsError } from '../../helpers/ahs_error.js';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'ahs-metrics-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (o: Record<string, unknown>): string => JSON.stringify(o);

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// Wrong here: a resumed run would draw the superseded first attempt (or both, zig-zagging) over
// the iterations it repeated, an evaluation line would wipe the training values logged at the
// same iteration, or a run killed mid-write could not be plotted at all.
test('a resumed run: the later line for an iteration wins, same-iteration lines merge, a truncated last line is skipped', async () => {
  const text = [
    line({ iteration: 19, total_loss: 4, loss_sem_seg: 4, lr: 1e-5, time: 0.5, data_time: 0.01 }),
    line({ iteration: 39, total_loss: 3, loss_sem_seg: 3, lr: 2e-5, time: 0.5, data_time: 0.01 }),
    line({ iteration: 59, total_loss: 2.5, loss_sem_seg: 2.5, lr: 3e-5, note: 'first attempt', nested: { a: 1 }, flag: true }),
    line({ iteration: 59, 'sem_seg/mIoU': 10, 'sem_seg/fwIoU': 20 }),
    // The run died and resumed from the checkpoint at 29: 39 and 59 are logged again.
    line({ iteration: 39, total_loss: 2.9, loss_sem_seg: 2.9, lr: 2e-5 }),
    line({ iteration: 59, total_loss: 2.4, loss_sem_seg: 2.4, lr: 3e-5 }),
    line({ iteration: 79, total_loss: 2, loss_sem_seg: 2, lr: 4e-5 }),
    '{"iteration": 99, "total_loss": 1.9, "loss_sem',
  ].join('\n');
  const log = await readMetrics(write('resumed.json', text));
  assert.deepEqual(log.iterations, [19, 39, 59, 79]);
  assert.deepEqual(log.series.get('total_loss'), [[19, 4], [39, 2.9], [59, 2.4], [79, 2]]);
  assert.deepEqual(log.series.get('lr'), [[19, 1e-5], [39, 2e-5], [59, 3e-5], [79, 4e-5]]);
  // The evaluation at 59 survives the later training line for 59, which has no mIoU key.
  assert.deepEqual(log.series.get('sem_seg/mIoU'), [[59, 10]]);
  assert.deepEqual(log.series.get('time'), [[19, 0.5], [39, 0.5]]);
  assert.equal(log.truncatedLastLine, true);
  assert.equal(log.lines, 7);
  for (const k of ['note', 'nested', 'flag', 'iteration']) assert.ok(!log.series.has(k), `${k} is not a numeric series`);
});

// Wrong here: a log with lines out of order (an evaluation written late) would draw a line that
// runs backwards, or a cleanly closed file would be reported as truncated.
test('series come out sorted by iteration; a complete file with trailing blank lines is not truncated', () => {
  const log = parseMetrics([line({ iteration: 40, lr: 2 }), '', line({ iteration: 20, lr: 1 }), '', ''].join('\n'));
  assert.deepEqual(log.series.get('lr'), [[20, 1], [40, 2]]);
  assert.equal(log.truncatedLastLine, false);
  assert.equal(log.lines, 2);
  assert.deepEqual(parseMetrics('').iterations, [], 'an empty file is an empty log, not an error');
});

// Wrong here: a diverged run logged by Python (json.dumps writes bare NaN) would be rejected as a
// corrupt file instead of being plotted with the NaN points left out and counted.
test('Python-style NaN and Infinity values are left out and counted', () => {
  const log = parseMetrics(['{"iteration": 1, "total_loss": NaN, "lr": 0.1}', '{"iteration": 2, "total_loss": Infinity, "lr": -Infinity}', line({ iteration: 3, total_loss: 1 })].join('\n'));
  assert.deepEqual(log.series.get('total_loss'), [[3, 1]]);
  assert.deepEqual(log.series.get('lr'), [[1, 0.1]]);
  assert.equal(log.nonFinite, 3);
});

// Wrong here: a damaged file in the middle would be plotted silently with a gap, or the user would
// not be told which line to look at.
test('an unparsable line before the last is an error naming the file and the line number', async () => {
  const p = write('broken.json', [line({ iteration: 1, lr: 1 }), line({ iteration: 2, lr: 1 }), '{"iteration": 3, "lr"', line({ iteration: 4, lr: 1 })].join('\n'));
  await assert.rejects(readMetrics(p), isAhsError('AHS_ERR_FILE_FORMAT', `${p}:3: not a JSON object: {"iteration": 3, "lr"`));
  // A JSON value that is not an object (e.g. a stray number) is as wrong as a broken one.
  assert.throws(() => parseMetrics('42\n{"iteration": 1}\n', 'm.json'), isAhsError('AHS_ERR_FILE_FORMAT', 'm.json:1: not a JSON object: 42'));
});

// Wrong here: lines without a usable iteration would be put at x = NaN or 0 and corrupt the plot.
test('a line whose "iteration" is missing or not a non-negative integer is an error with its line number', () => {
  assert.throws(() => parseMetrics(`${line({ iteration: 1 })}\n${line({ lr: 1 })}\n`, 'm.json'),
    isAhsError('AHS_ERR_FILE_FORMAT', 'm.json:2: "iteration" must be a non-negative integer, got nothing'));
  assert.throws(() => parseMetrics(`${line({ iteration: 1.5 })}\n`, 'm.json'),
    isAhsError('AHS_ERR_FILE_FORMAT', 'm.json:1: "iteration" must be a non-negative integer, got 1.5'));
  assert.throws(() => parseMetrics(`${line({ iteration: '7' })}\n`, 'm.json'),
    isAhsError('AHS_ERR_FILE_FORMAT', 'm.json:1: "iteration" must be a non-negative integer, got "7"'));
});

// Wrong here: the user would get a bare ENOENT with no hint of what should have written the file.
test('a missing metrics.json is AHS_ERR_FILE_NOT_FOUND naming the path and `ahs-seg train`', async () => {
  const p = join(dir, 'nope', 'metrics.json');
  await assert.rejects(readMetrics(p), isAhsError('AHS_ERR_FILE_NOT_FOUND', `${p} does not exist; \`ahs-seg train\` writes it into its OUTPUT_DIR`));
});
