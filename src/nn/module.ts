// The Module base: named parameters, buffers and children whose dotted paths are PyTorch's
// state-dict keys (`visual.transformer.resblocks.0.attn.in_proj_weight`), train/eval mode,
// freezing, and strict or lenient state-dict loading with a full report.
import { AhsError, fmtShape } from '../errors.js';
import { checkDevice, isFloating, keep, noGrad, tidy, Tensor, type Device } from '../tensor/index.js';

export interface ShapeMismatch { key: string; expected: number[]; got: number[] }

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  mismatched: ShapeMismatch[];
}

export function formatLoadReport(r: LoadReport, source = 'state dict'): string {
  const lines: string[] = [];
  if (r.missing.length) lines.push(`missing keys (${r.missing.length}): ${r.missing.join(', ')}`);
  if (r.unexpected.length) lines.push(`unexpected keys (${r.unexpected.length}): ${r.unexpected.join(', ')}`);
  for (const m of r.mismatched) lines.push(`shape mismatch for ${m.key}: model ${fmtShape(m.expected)}, ${source} ${fmtShape(m.got)}`);
  return lines.join('\n');
}

/** Equal shapes, or a 0-d parameter given as [1] (PyTorch's _load_from_state_dict accepts that
 * for old checkpoints that stored scalars such as CLIP's logit_scale with one element). */
function sameShapeForLoad(model: number[], src: number[]): boolean {
  if (model.length === 0 && src.length === 1 && src[0] === 1) return true;
  return model.length === src.length && model.every((d, i) => d === src[i]);
}

/** A weight that is NaN or infinite makes every output NaN: refuse the file, naming the first
 * such parameter and how many values are bad. Buffers are not checked (a mask may hold -inf). */
function checkFinite(sd: Map<string, Tensor>, params: Set<string>, source = 'state dict'): void {
  for (const [k, t] of sd) {
    if (!params.has(k) || !isFloating(t.dtype)) continue;
    const bad = noGrad(() => tidy(() => t.isfinite().logicalNot().sum().item()));
    if (bad > 0) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `${source}: weight '${k}' holds ${bad} NaN or infinite value${bad === 1 ? '' : 's'} (of ${t.numel}); ` +
        'the file is corrupt (a diverged training run or a broken conversion): use an earlier checkpoint or re-download it');
    }
  }
}

export class Module {
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, { t: Tensor | null; persistent: boolean }>();
  readonly #children = new Map<string, Module | null>();

  /** Registers a parameter (made a trainable leaf and kept out of tidy scopes). */
  protected param(name: string, t: Tensor | null, trainable = true): Tensor {
    if (t) {
      keep(t);
      if (trainable && !t.requiresGrad) t.requiresGrad_(true);
    }
    this.#params.set(name, t);
    return t as Tensor;
  }

  protected buffer(name: string, t: Tensor | null, persistent = true): Tensor {
    if (t) keep(t);
    this.#buffers.set(name, { t, persistent });
    return t as Tensor;
  }

  protected child<M extends Module | null>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Replaces a registered parameter or buffer tensor (used by loading and device moves). */
  protected setTensor(name: string, t: Tensor): void {
    if (this.#params.has(name)) this.#params.set(name, t);
    else if (this.#buffers.has(name)) this.#buffers.get(name)!.t = t;
    else throw new AhsError('AHS_ERR_STATE_DICT', `no parameter or buffer '${name}'`);
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this.#children) if (m) yield [n, m];
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.#params) if (t) yield [prefix ? `${prefix}.${n}` : n, t];
    for (const [n, m] of this.namedChildren()) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  *namedBuffers(prefix = '', persistentOnly = false): Generator<[string, Tensor]> {
    for (const [n, b] of this.#buffers) if (b.t && (!persistentOnly || b.persistent)) yield [prefix ? `${prefix}.${n}` : n, b.t];
    for (const [n, m] of this.namedChildren()) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n, persistentOnly);
  }

  /** Parameters and persistent buffers by their PyTorch state-dict names. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers('', true)]);
  }

  numParameters(trainableOnly = false): number {
    let n = 0;
    for (const [, t] of this.namedParameters()) if (!trainableOnly || t.requiresGrad) n += t.numel;
    return n;
  }

  /**
   * Copies values from a state dict into this module's tensors (identity kept, so optimizers
   * holding them stay valid). Strict loading throws on any missing, unexpected or mis-shaped
   * key, listing all of them; lenient loading loads what matches and returns the report.
   */
  loadStateDict(sd: Map<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const k of own.keys()) if (!sd.has(k)) report.missing.push(k);
    for (const k of sd.keys()) if (!own.has(k)) report.unexpected.push(k);
    for (const [k, t] of own) {
      const src = sd.get(k);
      if (src && !sameShapeForLoad(t.shape, src.shape)) report.mismatched.push({ key: k, expected: t.shape, got: src.shape });
    }
    const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
    if ((opts.strict ?? true) && bad > 0) {
      throw new AhsError('AHS_ERR_STATE_DICT', `cannot load ${opts.source ?? 'state dict'} strictly:\n${formatLoadReport(report, opts.source)}`);
    }
    const mis = new Set(report.mismatched.map((m) => m.key));
    checkFinite(sd, new Set([...this.namedParameters()].map(([k]) => k)), opts.source);
    noGrad(() => {
      for (const [k, t] of own) {
        const src = sd.get(k);
        if (!src || mis.has(k)) continue;
        if (src.rank === t.rank) t.copy_(src);
        else tidy(() => t.copy_(src.view(t.shape)));
      }
    });
    return report;
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets requires_grad on every parameter (false = frozen). */
  requiresGrad_(on: boolean): this {
    for (const [, t] of this.namedParameters()) t.requiresGrad_(on);
    return this;
  }

  freeze(): this {
    return this.requiresGrad_(false);
  }

  /**
   * Moves every parameter and buffer to `device` (PyTorch's Module.to): the JS tensors stay the
   * same objects (fields and optimizers holding them stay valid) and trainable ones stay trainable;
   * gradients are dropped. A module that caches tensors derived from its own overrides this to drop
   * them. The model's forward creates its own tensors on its inputs' or parameters' device.
   */
  to(device: Device): this {
    checkDevice(device);
    noGrad(() => {
      for (const t of [...this.parameters(), ...[...this.namedBuffers()].map(([, b]) => b)]) {
        if (t.device === device) continue;
        const trainable = t.requiresGrad;
        t.adopt_(t.to(device));
        if (trainable) t.requiresGrad_(true); // a new leaf on the device, without the old gradient
      }
    });
    return this;
  }

  /** Where the module's tensors live (its first parameter's or buffer's device; 'cpu' when it has
   * none). Module.to keeps them all on one device. */
  get device(): Device {
    for (const [, t] of this.namedParameters()) return t.device;
    for (const [, t] of this.namedBuffers()) return t.device;
    return 'cpu';
  }

  /** Frees every parameter and buffer now. The module is unusable afterwards. */
  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }
}

/** Children named 0, 1, 2, ... as PyTorch's nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.child(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `ModuleList index ${i} out of range (length ${this.items.length})`);
    return m;
  }
}

/** A module mapping one tensor to one tensor. */
export interface Layer {
  forward(x: Tensor): Tensor;
}

/** nn.Sequential: children named 0, 1, ...; forward chains them, freeing intermediates. */
export class Sequential extends Module implements Layer {
  readonly layers: (Module & Layer)[];
  constructor(...layers: (Module & Layer)[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let cur = x;
    for (const l of this.layers) {
      const next = l.forward(cur);
      if (cur !== x && next !== cur) cur.dispose();
      cur = next;
    }
    return cur;
  }
}
