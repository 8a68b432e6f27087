// The Cayley transform of OFT (Zeju1997/oft `cayley_batch`, H-CLIP's text path) and the
// block-diagonal products H-CLIP applies to the frozen attention weights, without ever building
// the d x d block-diagonal matrix.
import { AhsError, fmtShape } from '../../../errors.js';
import { eye, linalgSolve, tidy, type Tensor } from '../../../tensor/index.js';

/**
 * Batched Cayley transform of [..., n, n] generators: S = (A - A^T) / 2, R = (I - S)(I + S)^-1.
 * R is orthogonal for every A (only the skew part of A matters, so A = 0 and A = I both give
 * R = I). (I - S) and (I + S)^-1 commute, so R = (I + S)^-1 (I - S) is one batched solve
 * (LU with partial pivoting) instead of an explicit inverse and a product; it differs from
 * `bmm(I - S, inverse(I + S))` by rounding only. Differentiable in A.
 */
export function cayley(a: Tensor): Tensor {
  if (a.rank < 2 || a.size(-1) !== a.size(-2)) {
    throw new AhsError('AHS_ERR_SHAPE', `cayley: generators must be [..., n, n], got ${fmtShape(a.shape)}`);
  }
  return tidy(() => {
    const n = a.size(-1);
    const s = a.sub(a.transpose(-2, -1)).mul(0.5); // skew part
    const i = eye(n, a.dtype, a.device);
    return linalgSolve(i.add(s), i.sub(s)); // (I + S) R = (I - S)
  });
}

function blocksOf(r: Tensor, what: string): [number, number] {
  if (r.rank !== 3 || r.size(1) !== r.size(2)) {
    throw new AhsError('AHS_ERR_SHAPE', `${what}: blocks must be [r, b, b], got ${fmtShape(r.shape)}`);
  }
  return [r.size(0), r.size(1)];
}

/**
 * W · BlockDiag(R_0, ..., R_{r-1}) for W [n, r*b] and blocks R [r, b, b]: every row of W (one
 * output neuron of a Linear weight) has each b-slice of its input side rotated by its block.
 * H-CLIP's W_q', W_k', W_v'. Rows are independent, so any subset of rows may be passed.
 */
export function mulBlockDiagRight(w: Tensor, r: Tensor): Tensor {
  const [nb, b] = blocksOf(r, 'mulBlockDiagRight');
  if (w.rank !== 2 || w.size(1) !== nb * b) {
    throw new AhsError('AHS_ERR_SHAPE', `mulBlockDiagRight: weight must be [n, ${nb * b}] for ${nb} blocks of ${b}, got ${fmtShape(w.shape)}`);
  }
  return tidy(() => {
    const n = w.size(0);
    const out = w.reshape([n, nb, b]).transpose(0, 1).bmm(r); // (r, n, b)
    return out.transpose(0, 1).reshape([n, nb * b]);
  });
}

/**
 * BlockDiag(R_0, ..., R_{r-1}) · W for blocks R [r, b, b] and W [r*b, n]: the output side of a
 * Linear weight is rotated block by block. H-CLIP's W_o'. Columns are independent, so any
 * subset of columns may be passed.
 */
export function mulBlockDiagLeft(r: Tensor, w: Tensor): Tensor {
  const [nb, b] = blocksOf(r, 'mulBlockDiagLeft');
  if (w.rank !== 2 || w.size(0) !== nb * b) {
    throw new AhsError('AHS_ERR_SHAPE', `mulBlockDiagLeft: weight must be [${nb * b}, n] for ${nb} blocks of ${b}, got ${fmtShape(w.shape)}`);
  }
  return tidy(() => {
    const n = w.size(1);
    return r.bmm(w.reshape([nb, b, n])).reshape([nb * b, n]); // (r, b, n) -> (r*b, n)
  });
}
