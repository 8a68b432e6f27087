// CAT-Seg's upsampling decoder (model.py: Up, DoubleConv): each stage doubles the resolution with
// a 2x2 transposed conv to (in - guidance) channels, concatenates the projected CLIP guidance of
// the image (shared by its classes), then (3x3 conv, no bias -> GroupNorm(mid/16) -> ReLU) x 2.
import { AhsError, check, fmtShape } from '../../errors.js';
import { Conv2d, ConvTranspose2d, GroupNorm, Module, ReLU, Sequential } from '../../nn/index.js';
import { cat, tidy, type Tensor } from '../../tensor/index.js';

export class DoubleConv extends Module {
  readonly double_conv: Sequential;
  constructor(readonly inChannels: number, readonly outChannels: number, midChannels?: number) {
    super();
    const mid = midChannels || outChannels;
    const groups = Math.floor(mid / 16);
    if (groups < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `DoubleConv: ${mid} channels give GroupNorm ${mid}//16 = 0 groups (need >= 16 channels)`);
    // The reference normalises the second conv with GroupNorm(mid // 16, mid) too.
    this.double_conv = this.child('double_conv', new Sequential(
      new Conv2d(inChannels, mid, 3, { padding: 1, bias: false }),
      new GroupNorm(groups, mid),
      new ReLU(),
      new Conv2d(mid, outChannels, 3, { padding: 1, bias: false }),
      new GroupNorm(groups, mid),
      new ReLU(),
    ));
  }
  forward(x: Tensor): Tensor {
    return this.double_conv.forward(x);
  }
}

export class Up extends Module {
  readonly up: ConvTranspose2d;
  readonly conv: DoubleConv;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly guidanceChannels: number) {
    super();
    if (guidanceChannels >= inChannels) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `Up: guidance channels ${guidanceChannels} must be fewer than the input's ${inChannels}`);
    }
    this.up = this.child('up', new ConvTranspose2d(inChannels, inChannels - guidanceChannels, 2, { stride: 2 }));
    this.conv = this.child('conv', new DoubleConv(inChannels, outChannels));
  }

  /** x (B T, Cin, H, W), guidance (B, Cg, 2H, 2W) or null -> (B T, Cout, 2H, 2W). */
  forward(x: Tensor, guidance: Tensor | null): Tensor {
    return tidy(() => {
      let y = this.up.forward(x); // (B T, Cin - Cg, 2H, 2W)
      if (guidance) {
        const B = guidance.size(0);
        const [BT, , H2, W2] = y.shape as [number, number, number, number];
        check(guidance.rank === 4 && BT % B === 0 && guidance.size(2) === H2 && guidance.size(3) === W2, 'AHS_ERR_SHAPE',
          () => `Up: guidance must be (B, Cg, ${H2}, ${W2}) with B dividing ${BT}, got ${fmtShape(guidance.shape)}`);
        const T = BT / B;
        const g = guidance.unsqueeze(1).expand([B, T, -1, H2, W2]).reshape([BT, -1, H2, W2]); // (B T, Cg, 2H, 2W)
        y = cat([y, g], 1); // (B T, Cin, 2H, 2W)
      }
      return this.conv.forward(y);
    });
  }
}
