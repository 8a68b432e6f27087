// Loading weights refuses NaN and infinite parameter values, naming the file and the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear, Module } from '../../../src/nn/index.js';
import { full, tensor, type Tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';

class WithMask extends Module {
  readonly fc = this.child('fc', new Linear(2, 2));
  readonly mask = this.buffer('mask', full([2], -Infinity));
}

// Wrong here: a NaN weight loads silently and every output becomes NaN (one class everywhere).
test('a NaN or infinite parameter is refused; -inf in a buffer (a mask) is not', () => {
  const m = new WithMask();
  const sd = new Map<string, Tensor>(m.stateDict());
  m.loadStateDict(sd, { source: 'ok.safetensors' }); // the -inf mask is a buffer
  sd.set('fc.weight', tensor(Float32Array.from([1, NaN, Infinity, 2]), { shape: [2, 2] }));
  assert.throws(() => m.loadStateDict(sd, { source: 'bad.safetensors' }),
    isAhsError('AHS_ERR_FILE_FORMAT', /^bad\.safetensors: weight 'fc\.weight' holds 2 NaN or infinite values \(of 4\); the file is corrupt/));
  assert.ok(m.fc.weight.data<'float32'>().every(Number.isFinite), 'nothing was copied');
  m.dispose();
});
