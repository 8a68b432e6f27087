// SGD with momentum, numerically as torch.optim.SGD (weight decay added to the gradient, momentum
// buffer initialised to the first gradient, optional Nesterov), with the same parameter groups and
// state-dict layout as AdamW so that checkpoints treat both alike.
import { AhsError } from '../errors.js';
import { keep, noGrad, type Tensor } from '../tensor/index.js';
import { resolveParamGroups, stateFor, type ParamGroup } from './param_group.js';

export interface SGDOptions { lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number }

export interface SGDStateDict {
  meta: { lr: number; momentum: number; nesterov: boolean; groups: { lrMultiplier: number; weightDecay: number; names: string[] }[]; steps: Record<string, number> };
  tensors: Map<string, Tensor>;
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly groups: Required<ParamGroup>[];
  readonly #buf = new Map<Tensor, Tensor>();

  constructor(groups: ParamGroup[], opts: SGDOptions) {
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && this.momentum <= 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', 'SGD: Nesterov momentum needs SOLVER.MOMENTUM > 0');
    this.groups = resolveParamGroups(groups, opts.weightDecay ?? 0, 'SGD');
  }

  step(): void {
    noGrad(() => {
      for (const g of this.groups) {
        const lr = this.lr * g.lrMultiplier;
        for (const p of g.params) {
          let d = p.grad;
          if (!d) continue;
          if (g.weightDecay !== 0) d.add_(p, g.weightDecay);
          if (this.momentum !== 0) {
            let b = this.#buf.get(p);
            if (!b) { b = keep(d.clone()); this.#buf.set(p, b); } else b.mul_(this.momentum).add_(d);
            if (this.nesterov) d.add_(b, this.momentum);
            else { d.dispose(); d = b; }
          }
          p.add_(d, -lr);
          if (d !== this.#buf.get(p)) d.dispose();
        }
      }
    });
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  stateDict(): SGDStateDict {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const g of this.groups) g.params.forEach((p, i) => {
      const b = this.#buf.get(p);
      if (b) { tensors.set(`${g.names[i]}.momentum_buffer`, b); steps[g.names[i]!] = 1; }
    });
    return { meta: { lr: this.lr, momentum: this.momentum, nesterov: this.nesterov, groups: this.groups.map((g) => ({ lrMultiplier: g.lrMultiplier, weightDecay: g.weightDecay, names: g.names })), steps }, tensors };
  }

  loadStateDict(sd: SGDStateDict): void {
    if (sd.meta.groups.length !== this.groups.length) throw new AhsError('AHS_ERR_STATE_DICT', `optimizer state has ${sd.meta.groups.length} param groups, this optimizer ${this.groups.length}`);
    this.lr = sd.meta.lr;
    noGrad(() => this.groups.forEach((g) => g.params.forEach((p, i) => {
      const b = sd.tensors.get(`${g.names[i]}.momentum_buffer`);
      if (!b) return;
      if (b.shape.join() !== p.shape.join()) throw new AhsError('AHS_ERR_STATE_DICT', `optimizer state for '${g.names[i]}' has shape [${b.shape}], parameter [${p.shape}]`);
      this.#buf.get(p)?.dispose();
      this.#buf.set(p, keep(stateFor(b, p)));
    })));
  }

  dispose(): void {
    for (const b of this.#buf.values()) b.dispose();
    this.#buf.clear();
  }
}
