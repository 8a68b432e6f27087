import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgressReporter } from '../../src/progress.js';

const MB = 1024 * 1024;

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 200, write: (s: string) => out.push(s) } };
}

describe('hub download progress', () => {
  it('prints one line per 10% when not a TTY', () => {
    // If this fails, CI logs get a line per chunk (thousands) or nothing at all.
    const { out, stream } = fakeStream(false);
    let t = 0;
    const report = createProgressReporter({ stream, now: () => t });
    const total = 100 * MB;
    for (let r = 0; r <= total; r += MB / 4) {
      t += 10;
      report({ file: 'model.safetensors', received: r, total });
    }
    assert.equal(out.length, 11, out.join(''));
    assert.match(out[0]!, /^model\.safetensors: 0% \(0\.0\/100\.0 MB/);
    assert.match(out[5]!, /^model\.safetensors: 50% \(50\.0\/100\.0 MB, 25\.0 MB\/s\)\n$/);
    assert.match(out.at(-1)!, /100% \(100\.0\/100\.0 MB/);
    assert.ok(out.every((l) => l.endsWith('\n') && !l.includes('\r')));
  });

  it('redraws a bar in place on a TTY with percentage, MB, MB/s and ETA, throttled', () => {
    // If this fails, the interactive bar is unreadable or floods the terminal.
    const { out, stream } = fakeStream(true);
    let t = 0;
    const report = createProgressReporter({ stream, now: () => t, redrawMs: 100 });
    const total = 10 * MB;
    report({ file: 'f', received: 0, total });
    t = 50;
    report({ file: 'f', received: MB, total }); // throttled
    t = 1000;
    report({ file: 'f', received: 5 * MB, total });
    t = 2000;
    report({ file: 'f', received: total, total });
    assert.equal(out.length, 3);
    assert.ok(out.every((s) => s.startsWith('\r')));
    assert.match(out[1]!, /50%/);
    assert.match(out[1]!, /5\.0\/10\.0 MB/);
    assert.match(out[1]!, /5\.0 MB\/s/);
    assert.match(out[1]!, /ETA 0:01/);
    assert.ok(out[2]!.endsWith('\n') && out[2]!.includes('100%'));
  });

  it('measures speed from where a resumed download started', () => {
    // If this fails, a resume from 90% reports an absurd MB/s and ETA.
    const { out, stream } = fakeStream(false);
    let t = 0;
    const report = createProgressReporter({ stream, now: () => t });
    report({ file: 'f', received: 90 * MB, total: 100 * MB });
    t = 1000;
    report({ file: 'f', received: 100 * MB, total: 100 * MB });
    assert.match(out.at(-1)!, /10\.0 MB\/s/);
  });

  it('copes with an unknown total', () => {
    // If this fails, a server without Content-Length crashes the reporter.
    const { out, stream } = fakeStream(false);
    const report = createProgressReporter({ stream, now: () => 0, unknownStepBytes: MB });
    for (let r = 0; r <= 3 * MB; r += MB / 2) report({ file: 'f', received: r, total: undefined });
    assert.equal(out.length, 4);
    assert.ok(!out.some((l) => l.includes('%')));
  });

  // Wrong here: evaluation progress would be shown in MB instead of images.
  it('counts images with an image unit', () => {
    const { out, stream } = fakeStream(false);
    let t = 0;
    const report = createProgressReporter({ stream, now: () => t, unit: { name: 'img', scale: 1, decimals: 0 } });
    report({ file: 'ade150', received: 0, total: 4 });
    t = 2000;
    report({ file: 'ade150', received: 4, total: 4 });
    assert.match(out.at(-1)!, /^ade150: 100% \(4\/4 img, 2\.00 img\/s\)\n$/);
  });

  // Wrong here: a long text encoding logged to a file shows no time left.
  it('adds the ETA to plain lines when asked (lineEta)', () => {
    const { out, stream } = fakeStream(false);
    let t = 0;
    const report = createProgressReporter({ stream, now: () => t, unit: { name: 'prompts', scale: 1, decimals: 0 }, lineEta: true });
    report({ file: 'text encoding', received: 0, total: 1000 });
    t = 10_000;
    report({ file: 'text encoding', received: 250, total: 1000 });
    t = 40_000;
    report({ file: 'text encoding', received: 1000, total: 1000 });
    assert.equal(out[1], 'text encoding: 25% (250/1000 prompts, 25.00 prompts/s, ETA 0:30)\n');
    assert.equal(out.at(-1), 'text encoding: 100% (1000/1000 prompts, 25.00 prompts/s)\n', 'no ETA once done');
  });
});
