// Devices: CUDA on a build or machine without it is a clear AHS_ERR_DEVICE, never a libtorch
// dispatcher message; malformed device strings are rejected by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineInfo, tensor, zeros } from '../../../src/tensor/index.js';

const hasCuda = engineInfo().cudaAvailable;

// Wrong here: users on CPU-only machines would get an opaque error when asking for a GPU.
test('CUDA without CUDA is AHS_ERR_DEVICE naming the device', { skip: hasCuda ? 'CUDA is available here' : false }, () => {
  assert.throws(() => zeros([2], 'float32', 'cuda:0'), (e: Error & { code?: string }) => e.code === 'AHS_ERR_DEVICE' && /cuda:0/.test(e.message));
  assert.throws(() => tensor([1, 2]).to('cuda'), (e: Error & { code?: string }) => e.code === 'AHS_ERR_DEVICE');
});

// Wrong here: a typo in a device name would reach libtorch and fail obscurely.
test('a malformed device string is rejected by name', () => {
  assert.throws(() => zeros([2], 'float32', 'gpu' as 'cpu'), /unknown device 'gpu'/);
  assert.equal(zeros([2], 'float32', 'cpu').device, 'cpu');
});
