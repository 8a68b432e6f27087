// Parameter groups as torch.optim takes them: each group scales the optimizer's lr and sets its
// own weight decay; names key the optimizer state in checkpoints.
import { AhsError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';

export interface ParamGroup {
  params: Tensor[];
  /** Multiplies the optimizer's lr for this group (CAT-Seg's CLIP_MULTIPLIER 0.01). */
  lrMultiplier?: number;
  weightDecay?: number;
  /** Names for state_dict round trips; defaults to group/index positions. */
  names?: string[];
}

/** Every field filled in (weight decay from the optimizer's default), names checked. */
export function resolveParamGroups(groups: ParamGroup[], defaultWeightDecay: number, optimizer: string): Required<ParamGroup>[] {
  return groups.map((g, gi) => {
    const names = g.names ?? g.params.map((_, i) => `${gi}.${i}`);
    if (names.length !== g.params.length) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${optimizer}: group has ${g.params.length} params but ${names.length} names`);
    return { params: g.params, lrMultiplier: g.lrMultiplier ?? 1, weightDecay: g.weightDecay ?? defaultWeightDecay, names };
  });
}

/** The optimizer's own copy of a saved state tensor, on its parameter's device (a checkpoint is
 * read onto the CPU; the parameter may live on a GPU). */
export function stateFor(saved: Tensor, param: Tensor): Tensor {
  return saved.device === param.device ? saved.clone() : saved.to(param.device);
}
