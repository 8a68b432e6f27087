// Building blocks for the config schema (detectron2 `defaults.py` / yacs `CN()`), plus the
// type-level mapping that turns the schema literal into a typed config object. A key is declared
// once, with its type, default and a one-line doc; everything else (checks, docs, dumps) reads it.

/** Value types a config leaf can hold. yacs tuples and lists are both `…[]` here. */
export type LeafType = 'bool' | 'int' | 'float' | 'str' | 'int[]' | 'float[]' | 'str[]';

export interface LeafSpec<V = unknown> {
  readonly kind: 'leaf';
  readonly type: LeafType;
  readonly default: V;
  /** One line: what the key does and, for ported keys, where the value comes from. */
  readonly doc: string;
  /** Allowed values of a string key (checked on every merge and set). */
  readonly choices?: readonly string[];
  /** Exact item count of a list key (e.g. 2 for [H, W]). */
  readonly length?: number;
}

export interface NodeSpec<C extends Record<string, Spec> = Record<string, Spec>> {
  readonly kind: 'node';
  readonly doc: string;
  readonly children: C;
}

export type Spec = LeafSpec | NodeSpec;

const leaf = <V>(type: LeafType, def: V, doc: string, extra: Partial<LeafSpec<V>> = {}): LeafSpec<V> => ({
  kind: 'leaf',
  type,
  default: def,
  doc,
  ...extra,
});

export const bool = (def: boolean, doc: string): LeafSpec<boolean> => leaf('bool', def, doc);
export const int = (def: number, doc: string): LeafSpec<number> => leaf('int', def, doc);
export const float = (def: number, doc: string): LeafSpec<number> => leaf('float', def, doc);
export const str = (def: string, doc: string): LeafSpec<string> => leaf('str', def, doc);

/** A string key restricted to `choices`; its TS type is the union of the choices. */
export function oneOf<const C extends readonly string[]>(choices: C, def: C[number], doc: string): LeafSpec<C[number]> {
  return leaf('str', def, doc, { choices });
}

export const ints = (def: readonly number[], doc: string, length?: number): LeafSpec<readonly number[]> =>
  leaf('int[]', Object.freeze([...def]), doc, length === undefined ? {} : { length });
export const floats = (def: readonly number[], doc: string, length?: number): LeafSpec<readonly number[]> =>
  leaf('float[]', Object.freeze([...def]), doc, length === undefined ? {} : { length });
export const strs = (def: readonly string[], doc: string, length?: number): LeafSpec<readonly string[]> =>
  leaf('str[]', Object.freeze([...def]), doc, length === undefined ? {} : { length });

export function section<const C extends Record<string, Spec>>(doc: string, children: C): NodeSpec<C> {
  return { kind: 'node', doc, children };
}

/** Plain nested values of a schema node (what `CfgNode.toObject()` returns). */
export type CfgValues<N extends NodeSpec> = {
  [K in keyof N['children']]: N['children'][K] extends NodeSpec
    ? CfgValues<N['children'][K]>
    : N['children'][K] extends LeafSpec<infer V>
      ? V
      : never;
};

/** Human name of a leaf type, as used in error messages and docs. */
export function typeName(type: LeafType): string {
  switch (type) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'str':
      return 'string';
    case 'int[]':
      return 'list of int';
    case 'float[]':
      return 'list of float';
    case 'str[]':
      return 'list of string';
  }
}
