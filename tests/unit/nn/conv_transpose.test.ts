// ConvTranspose2d's GEMM path (kernel == stride) must equal libtorch's transposed convolution in
// values and gradients; the general path must still be used otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvTranspose2d } from '../../../src/nn/index.js';
import { convTranspose2d, manualSeed, randn, tidy } from '../../../src/tensor/index.js';

for (const [k, cin, cout] of [[2, 6, 4], [4, 5, 3]] as const) {
  // Wrong here: the reshuffle after the GEMM puts patch pixels in the wrong place, or the bias
  // or gradient differs from the reference operator.
  test(`kernel ${k} stride ${k}: GEMM path equals conv_transpose2d (values and gradients)`, () => tidy(() => {
    manualSeed(3);
    const m = new ConvTranspose2d(cin, cout, k, { stride: k });
    const x = randn([2, cin, 5, 7], 'float64').requiresGrad_();
    const w = m.weight.double().detach().requiresGrad_();
    const b = m.bias!.double().detach().requiresGrad_();
    // Run the module in float64 by swapping in the double weights.
    const ref = convTranspose2d(x, w, b, [k, k]);
    const mod = new ConvTranspose2d(cin, cout, k, { stride: k });
    mod.loadStateDict(new Map([['weight', w.detach()], ['bias', b.detach()]]));
    const y = mod.forward(x.float()).double();
    assert.deepEqual(y.shape, [2, cout, 5 * k, 7 * k]);
    assert.ok(y.sub(ref).abs().amax().item() < 1e-5, 'values');
    const g = randn(ref.shape, 'float64');
    ref.mul(g).sum().backward();
    const gw = w.grad!.clone();
    const xr = x.float().detach().requiresGrad_();
    mod.forward(xr).double().mul(g).sum().backward();
    assert.ok(mod.weight.grad!.double().sub(gw).abs().amax().item() < 1e-4, 'weight gradient');
    assert.ok(xr.grad!.double().sub(x.grad!).abs().amax().item() < 1e-4, 'input gradient');
  }));
}
