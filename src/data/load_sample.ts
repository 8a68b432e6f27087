// One unit of loader work, the same on the main thread and in a worker: decode an item, check it,
// run the mapper with the generator of its stream position. Also the error round trip across the
// thread boundary. Worker-safe: nothing here imports the tensor engine.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AhsError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { Rng } from './rng.js';
import type { DatasetItem, MappedSample, RawSample } from './sample.js';
import { loadRawSample, type LabelSpace } from './sample_checks.js';

/** An augmentation function in an ESM module, imported once per thread. */
export interface MapperSpec {
  /** file: URL (or specifier) of the module. */
  module: string;
  exportName: string;
  /** Passed to every call; must be structured-clonable (it is sent to the workers). */
  options: unknown;
}

export type MapperFn = (raw: RawSample, options: unknown, rng: Rng) => MappedSample;

/** What every thread needs besides the jobs. */
export interface LoadSettings {
  mapper: MapperSpec;
  seed: number;
  space: LabelSpace;
  /** Run the label value checks on every sample (the size check always runs). */
  checks: boolean;
}

export interface SampleJob {
  /** Global stream position: keys the mapper's generator, Rng.for(seed, position). */
  position: number;
  item: DatasetItem;
}

export interface LoadedSample {
  sample: MappedSample;
  /** Size of the decoded image before mapping (what aspect-ratio grouping looks at). */
  width: number;
  height: number;
}

/** A file: URL ending in .js whose file is missing but has a .ts sibling names the .ts (run from src under tsx). */
export function resolveModuleUrl(module: string): string {
  if (!module.startsWith('file:') || !module.endsWith('.js')) return module;
  if (existsSync(fileURLToPath(module))) return module;
  const ts = module.slice(0, -3) + '.ts';
  return existsSync(fileURLToPath(ts)) ? ts : module;
}

export async function importMapper(spec: MapperSpec): Promise<MapperFn> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(resolveModuleUrl(spec.module))) as Record<string, unknown>;
  } catch (err) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `mapper module '${spec.module}' could not be imported: ${(err as Error).message}`, { cause: err });
  }
  const fn = mod[spec.exportName];
  if (typeof fn !== 'function') {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `mapper module '${spec.module}' has no function export '${spec.exportName}'`);
  }
  return fn as MapperFn;
}

function checkMapped(s: MappedSample, job: SampleJob, spec: MapperSpec): void {
  const ok =
    s !== null && typeof s === 'object' && Number.isInteger(s.width) && Number.isInteger(s.height) &&
    s.image instanceof Uint8Array && s.image.length === 3 * s.width * s.height &&
    s.label instanceof Uint16Array && s.label.length === s.width * s.height;
  if (!ok) {
    throw new AhsError(
      'AHS_ERR_INVALID_ARGUMENT',
      `mapper '${spec.exportName}' of '${spec.module}' returned no valid MappedSample for image '${job.item.imagePath}' ` +
        `(expects width, height, a Uint8Array image of 3*width*height and a Uint16Array label of width*height)`,
    );
  }
}

/** Adds the files being loaded to an error that does not name them yet. */
export function withFileContext(err: unknown, job: SampleJob): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const { imagePath, labelPath } = job.item;
  if (e.message.includes(imagePath) || e.message.includes(labelPath)) return e;
  const message = `${e.message} (while loading image '${imagePath}', label '${labelPath}', stream position ${job.position})`;
  const out = e instanceof AhsError ? new AhsError(e.code, message, { cause: e }) : new Error(message, { cause: e });
  if (e.stack) out.stack = `${out.name}: ${message}\n${e.stack.split('\n').slice(1).join('\n')}`;
  return out;
}

export async function loadAndMap(job: SampleJob, settings: LoadSettings, mapper: MapperFn): Promise<LoadedSample> {
  try {
    const raw = await loadRawSample(job.item, settings.space, settings.checks);
    const { width, height } = raw;
    const sample = mapper(raw, settings.mapper.options, Rng.for(settings.seed, job.position));
    checkMapped(sample, job, settings.mapper);
    return { sample, width, height };
  } catch (err) {
    throw withFileContext(err, job);
  }
}

/** The views' buffers, for a transfer list; a view sharing its buffer is first copied out. */
export function transferables(s: MappedSample): ArrayBuffer[] {
  const own = <T extends Uint8Array | Uint16Array>(v: T): T =>
    v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer ? v : (v.slice() as T);
  s.image = own(s.image);
  s.label = own(s.label);
  if ((s.image.buffer as ArrayBufferLike) === s.label.buffer) s.label = s.label.slice();
  return [s.image.buffer as ArrayBuffer, s.label.buffer as ArrayBuffer];
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}), ...(e.stack ? { stack: e.stack } : {}) };
}

/** The error again on this side: an AhsError keeps its code and message. */
export function deserializeError(s: SerializedError): Error {
  const err = s.code !== undefined && s.code in ERROR_CODES ? new AhsError(s.code as ErrorCode, s.message) : new Error(s.message);
  if (!(err instanceof AhsError)) err.name = s.name;
  if (s.stack) err.stack = `${s.stack}\n    --- in a data loader worker thread`;
  return err;
}
