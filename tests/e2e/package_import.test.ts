// A second program uses the built package by its name, `import { ... } from 'ahs-seg'`, and trains
// a two-layer MLP with AdamW to a falling loss: the public API is complete enough for that, the
// package's exports map resolves, and the compiled output runs without the TypeScript sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

const PROGRAM = `
import { Linear, ReLU, Sequential, AdamW, manualSeed, randn, tidy, noGrad, liveTensorCount } from 'ahs-seg';
manualSeed(0);
const net = new Sequential(new Linear(8, 32), new ReLU(), new Linear(32, 1));
const opt = new AdamW(net.parameters(), { lr: 1e-2, weightDecay: 0 });
const x = randn([256, 8]);
const w = randn([8, 1]);
const y = noGrad(() => x.matmul(w).sin());
const losses = [];
for (let i = 0; i < 150; i++) {
  tidy(() => {
    opt.zeroGrad();
    const loss = net.forward(x).sub(y).pow(2).mean();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  });
}
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), live: liveTensorCount() }));
`;

// Wrong here: the package cannot be imported by name after the build, or training through the
// public API does not reduce the loss.
test("a separate program imports 'ahs-seg' and trains an MLP with AdamW", () => {
  assert.ok(existsSync(join(root, 'dist/index.js')), 'dist/ is missing: run `npm run build:ts` (scripts/setup.sh does)');
  const dir = mkdtempSync(join(tmpdir(), 'ahs-pkg-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'ahs-seg'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'train.js'), PROGRAM);
    const r = spawnSync(process.execPath, ['train.js'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { first, last } = JSON.parse(r.stdout.trim()) as { first: number; last: number };
    assert.ok(last < 0.1 * first, `loss should fall below 10% of its start: ${first} -> ${last}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
