// Conv2d's tap-plane path (few output channels, stride 1, no graph to record: CAT-Seg's 3x3 head
// to one channel) must equal libtorch's convolution; wrong here means a tap read from the wrong
// shift, a border row or column dropped or added twice, or the bias lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2d } from '../../../src/nn/index.js';
import { conv2d, enableGrad, manualSeed, noGrad, randn, tidy } from '../../../src/tensor/index.js';

const cases: { o: number; k: number; pad: number; bias: boolean; channelsLast: boolean }[] = [
  { o: 1, k: 3, pad: 1, bias: true, channelsLast: false },
  { o: 1, k: 3, pad: 1, bias: true, channelsLast: true },
  { o: 2, k: 3, pad: 0, bias: false, channelsLast: false },
  { o: 1, k: 5, pad: 2, bias: true, channelsLast: false },
  { o: 3, k: 3, pad: 2, bias: true, channelsLast: false },
];

for (const c of cases) {
  test(`${c.o} output channel(s), kernel ${c.k}, padding ${c.pad}, ${c.bias ? 'bias' : 'no bias'}${c.channelsLast ? ', channels-last input' : ''}: equals conv2d`, () => tidy(() => {
    manualSeed(11);
    const m = new Conv2d(6, c.o, c.k, { padding: c.pad, bias: c.bias });
    let x = randn([2, 6, 9, 7]);
    if (c.channelsLast) x = x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
    const ref = conv2d(x, m.weight, m.bias, [1, 1], [c.pad, c.pad], [1, 1], 1);
    const y = noGrad(() => m.forward(x));
    assert.deepEqual(y.shape, ref.shape);
    assert.ok(y.sub(ref).abs().amax().item() < 1e-5, `max diff ${y.sub(ref).abs().amax().item()}`);
  }));
}

test('under autograd the plain convolution runs and the weight gets its gradient', () => tidy(() => {
  manualSeed(12);
  const m = new Conv2d(4, 1, 3, { padding: 1 });
  const x = randn([1, 4, 5, 5]);
  enableGrad(() => m.forward(x).sum().backward());
  assert.ok(m.weight.grad && m.weight.grad.abs().sum().item() > 0);
}));
