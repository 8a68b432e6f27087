// AdamW (decoupled weight decay), numerically as torch.optim.AdamW (the single-tensor path),
// with parameter groups that scale the base learning rate and set their own weight decay.
import { AhsError } from '../errors.js';
import { keep, noGrad, zerosLike, type Tensor } from '../tensor/index.js';
import { resolveParamGroups, stateFor, type ParamGroup } from './param_group.js';

export type { ParamGroup };

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

interface ParamState { step: number; expAvg: Tensor; expAvgSq: Tensor }

export interface AdamWStateDict {
  meta: { lr: number; betas: [number, number]; eps: number; groups: { lrMultiplier: number; weightDecay: number; names: string[] }[]; steps: Record<string, number> };
  tensors: Map<string, Tensor>;
}

export class AdamW {
  lr: number;
  betas: [number, number];
  eps: number;
  readonly groups: Required<ParamGroup>[];
  readonly #state = new Map<Tensor, ParamState>();

  constructor(groups: ParamGroup[] | Tensor[], opts: AdamWOptions) {
    const list: ParamGroup[] = groups.length && !('params' in (groups[0] as object)) ? [{ params: groups as Tensor[] }] : (groups as ParamGroup[]);
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.groups = resolveParamGroups(list, opts.weightDecay ?? 0.01, 'AdamW');
  }

  /** One update from the parameters' accumulated gradients; params without a grad are skipped. */
  step(): void {
    const [b1, b2] = this.betas;
    noGrad(() => {
      for (const g of this.groups) {
        const lr = this.lr * g.lrMultiplier;
        for (const p of g.params) {
          const grad = p.grad;
          if (!grad) continue;
          let s = this.#state.get(p);
          if (!s) {
            s = { step: 0, expAvg: keep(zerosLike(p)), expAvgSq: keep(zerosLike(p)) };
            this.#state.set(p, s);
          }
          s.step += 1;
          if (g.weightDecay !== 0) p.mul_(1 - lr * g.weightDecay);
          s.expAvg.lerp_(grad, 1 - b1);
          s.expAvgSq.mul_(b2).addcmul_(grad, grad, 1 - b2);
          const bc1 = 1 - b1 ** s.step;
          const bc2 = 1 - b2 ** s.step;
          const denom = s.expAvgSq.sqrt();
          denom.div_(Math.sqrt(bc2)).add_(this.eps);
          p.addcdiv_(s.expAvg, denom, -lr / bc1);
          denom.dispose();
          grad.dispose();
        }
      }
    });
  }

  /** Clears every parameter's gradient (set to None, as PyTorch's set_to_none=True). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  /** Everything needed for an exact resume: moments, step counts, hyper-parameters. */
  stateDict(): AdamWStateDict {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const g of this.groups) {
      g.params.forEach((p, i) => {
        const s = this.#state.get(p);
        if (!s) return;
        const n = g.names[i]!;
        tensors.set(`${n}.exp_avg`, s.expAvg);
        tensors.set(`${n}.exp_avg_sq`, s.expAvgSq);
        steps[n] = s.step;
      });
    }
    return {
      meta: { lr: this.lr, betas: this.betas, eps: this.eps, groups: this.groups.map((g) => ({ lrMultiplier: g.lrMultiplier, weightDecay: g.weightDecay, names: g.names })), steps },
      tensors,
    };
  }

  loadStateDict(sd: AdamWStateDict): void {
    if (sd.meta.groups.length !== this.groups.length) {
      throw new AhsError('AHS_ERR_STATE_DICT', `optimizer state has ${sd.meta.groups.length} param groups, this optimizer ${this.groups.length}`);
    }
    this.lr = sd.meta.lr;
    this.betas = [sd.meta.betas[0], sd.meta.betas[1]];
    this.eps = sd.meta.eps;
    noGrad(() => {
      this.groups.forEach((g, gi) => {
        const saved = sd.meta.groups[gi]!;
        g.lrMultiplier = saved.lrMultiplier;
        g.weightDecay = saved.weightDecay;
        g.params.forEach((p, i) => {
          const n = g.names[i]!;
          const step = sd.meta.steps[n];
          if (step === undefined) return;
          const a = sd.tensors.get(`${n}.exp_avg`);
          const b = sd.tensors.get(`${n}.exp_avg_sq`);
          if (!a || !b) throw new AhsError('AHS_ERR_STATE_DICT', `optimizer state for '${n}' lacks exp_avg or exp_avg_sq`);
          if (a.shape.join() !== p.shape.join()) throw new AhsError('AHS_ERR_STATE_DICT', `optimizer state for '${n}' has shape [${a.shape}], parameter [${p.shape}]`);
          const old = this.#state.get(p);
          if (old) { old.expAvg.dispose(); old.expAvgSq.dispose(); }
          this.#state.set(p, { step, expAvg: keep(stateFor(a, p)), expAvgSq: keep(stateFor(b, p)) });
        });
      });
    });
  }

  dispose(): void {
    for (const s of this.#state.values()) { s.expAvg.dispose(); s.expAvgSq.dispose(); }
    this.#state.clear();
  }
}
