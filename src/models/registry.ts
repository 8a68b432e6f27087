// META_ARCH_REGISTRY: MODEL.META_ARCHITECTURE -> the builder of that model family. Builders are
// the only code that reads the config; what they return is the training contract (seg_model.ts).
import type { AhsConfig } from '../config/index.js';
import { AhsError } from '../errors.js';
import { buildCatSegModel } from './catseg/build.js';
import type { BuiltModel } from './seg_model.js';

export interface BuildModelOptions {
  /** Folder of the on-disk text-embedding cache (null: memory only). */
  textCacheDir?: string | null;
}

export type ModelBuilder = (cfg: AhsConfig, opts: BuildModelOptions) => BuiltModel;

const META_ARCH_REGISTRY = new Map<string, ModelBuilder>([
  ['CATSeg', buildCatSegModel],
  // AHS-Seg's name for the same model with its components: they are chosen by the
  // MODEL.SEM_SEG_HEAD.USE_* switches, so its YAML files load as they are.
  ['EnhancedCATSeg', buildCatSegModel],
]);

/** Registers another model family (an extension point for code outside this package). */
export function registerMetaArchitecture(name: string, builder: ModelBuilder): void {
  if (META_ARCH_REGISTRY.has(name)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `META_ARCHITECTURE '${name}' is already registered`);
  META_ARCH_REGISTRY.set(name, builder);
}

export function metaArchitectures(): string[] {
  return [...META_ARCH_REGISTRY.keys()];
}

/** The model MODEL.META_ARCHITECTURE names, randomly initialised. */
export function buildModel(cfg: AhsConfig, opts: BuildModelOptions = {}): BuiltModel {
  const name = cfg.MODEL.META_ARCHITECTURE;
  const builder = META_ARCH_REGISTRY.get(name);
  if (!builder) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.META_ARCHITECTURE '${name}' is not registered; known: ${metaArchitectures().join(', ')}`);
  }
  return builder(cfg, opts);
}
