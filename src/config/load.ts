// Config files: `loadConfig` is detectron2's `cfg.merge_from_file(f); cfg.merge_from_list(opts);
// cfg.freeze()` with fvcore's `_BASE_` inheritance; `dumpConfig` writes the merged result so a run
// can be reproduced from its OUTPUT_DIR alone.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { AhsError, check } from '../errors.js';
import { type CfgNode, YAML_VERSION } from './cfg_node.js';
import { type AhsConfig, defaultConfig } from './defaults.js';
import { resolveShippedPath } from '../package_paths.js';

const BASE_KEY = '_BASE_';

/** One file of a `_BASE_` chain: its path as shown to the user and its keys (without `_BASE_`). */
export interface ConfigLayer {
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Loads `path` over the defaults, then applies `KEY VALUE` overrides, and freezes the result.
 *
 * @example
 * const cfg = loadConfig('configs/vitb_384.yaml', ['SOLVER.MAX_ITER', '1000', 'OUTPUT_DIR', 'out/x']);
 * cfg.MODEL.SEM_SEG_HEAD.NUM_LAYERS; // 2
 */
export function loadConfig(path: string, overrides: readonly string[] = []): AhsConfig {
  const cfg = defaultConfig();
  // Merging base-most first equals fvcore's dict merge, and lets errors name the file at fault.
  for (const layer of readConfigChain(path)) cfg.merge(layer.data, layer.path);
  cfg.mergeFromList(overrides);
  return cfg.freeze();
}

/**
 * Reads `path` and its `_BASE_` ancestors, base-most first. A relative `_BASE_` is resolved
 * against the directory of the file naming it; a relative `path` that does not exist in the
 * working directory but names a shipped file (`configs/vitb_384.yaml`) is the package's.
 */
export function readConfigChain(path: string): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  const chain: { path: string; abs: string }[] = [];
  // A relative path missing here that names a shipped config (configs/...) is the package's.
  let current: { path: string; abs: string; from?: string } = { path, abs: resolve(resolveShippedPath(path)) };
  for (;;) {
    const seen = chain.findIndex((c) => c.abs === current.abs);
    if (seen >= 0) {
      const cycle = [...chain.slice(seen), current].map((c) => c.path).join(' -> ');
      throw new AhsError('AHS_ERR_CONFIG_VALUE', `Cycle in ${BASE_KEY} chain: ${cycle}`);
    }
    chain.push(current);
    const data = readYamlMapping(current.path, current.abs, current.from);
    const { [BASE_KEY]: base, ...keys } = data;
    layers.unshift({ path: current.path, data: keys });
    if (base === undefined) return layers;
    check(
      typeof base === 'string' && base.length > 0,
      'AHS_ERR_CONFIG_TYPE',
      () => `${BASE_KEY} in ${current.path} must be a file path string, got ${JSON.stringify(base)}`,
    );
    const shown = isAbsolute(base) ? base : join(dirname(current.path), base);
    current = { path: shown, abs: resolve(dirname(current.abs), base), from: `${BASE_KEY} '${base}' of ${current.path}` };
  }
}

function readYamlMapping(shown: string, abs: string, from: string | undefined): Record<string, unknown> {
  check(existsSync(abs), 'AHS_ERR_FILE_NOT_FOUND', () =>
    from ? `Config file ${shown} not found (${from})` : `Config file ${shown} not found`,
  );
  let data: unknown;
  try {
    data = YAML.parse(readFileSync(abs, 'utf8'), { version: YAML_VERSION });
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `Cannot parse YAML in ${shown}: ${(e as Error).message}`, { cause: e });
  }
  if (data === null || data === undefined) return {}; // an empty file sets nothing
  check(
    typeof data === 'object' && !Array.isArray(data),
    'AHS_ERR_FILE_FORMAT',
    () => `Config file ${shown} must hold a YAML mapping at the top level, got ${Array.isArray(data) ? 'a list' : typeof data}`,
  );
  return data as Record<string, unknown>;
}

/**
 * Writes `cfg` as YAML to `path` atomically (temp file in the same directory, then rename), so a
 * crash never leaves a truncated config next to a checkpoint.
 */
export function dumpConfig(cfg: CfgNode, path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, cfg.toYAML(), 'utf8');
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
