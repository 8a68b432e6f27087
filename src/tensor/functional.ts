// Hand-written ops whose argument handling a table row cannot express.
import { AhsError, fmtShape } from '../errors.js';
import { aten } from './ops.js';
import { checkDevice } from './op_support.js';
import { Tensor } from './tensor.js';
import type { DType, Device } from './dtype.js';

export type InterpolateMode = 'nearest' | 'bilinear' | 'bicubic';

/**
 * F.interpolate for [N, C, H, W]: bilinear (align_corners true or false), bicubic (PyTorch's
 * coefficient -0.75) and nearest, to a size or by a scale factor.
 */
export function interpolate(
  x: Tensor,
  opts: { size?: [number, number]; scaleFactor?: number | [number, number]; mode?: InterpolateMode; alignCorners?: boolean },
): Tensor {
  const mode = opts.mode ?? 'nearest';
  if (x.rank !== 4) throw new AhsError('AHS_ERR_SHAPE', `interpolate: input must be [N,C,H,W], got ${fmtShape(x.shape)}`);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'interpolate: give exactly one of size and scaleFactor');
  }
  const size = opts.size ?? null;
  const scales = opts.scaleFactor === undefined ? null
    : typeof opts.scaleFactor === 'number' ? [opts.scaleFactor, opts.scaleFactor] : opts.scaleFactor;
  if (mode === 'nearest') {
    if (opts.alignCorners !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'interpolate: alignCorners only applies to bilinear and bicubic');
    return aten('aten::upsample_nearest2d', 'vec').t([x, size, scales]);
  }
  const op = mode === 'bilinear' ? 'aten::upsample_bilinear2d' : mode === 'bicubic' ? 'aten::upsample_bicubic2d' : undefined;
  if (!op) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `interpolate: unknown mode '${mode as string}'`);
  return aten(op, 'vec').t([x, size, opts.alignCorners ?? false, scales]);
}

/** CLIP's QuickGELU: x * sigmoid(1.702 x). */
export function quickGelu(x: Tensor): Tensor {
  const z = x.mul(1.702);
  const s = z.sigmoid();
  z.dispose();
  const y = x.mul(s);
  s.dispose();
  return y;
}

/** Moves (or converts) a tensor: device and optionally dtype. */
export function to(x: Tensor, device: Device, dtype?: DType): Tensor {
  return aten('aten::to', 'device').t([x, checkDevice(device), dtype ?? x.dtype]);
}

/** Squeezes every size-1 dim. */
export function squeezeAll(x: Tensor): Tensor {
  return aten('aten::squeeze').t([x]);
}
