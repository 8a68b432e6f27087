// The typed messages between the server and the worker thread that owns the model: the model
// never runs on the server's event loop, so health checks, uploads and queued requests keep being
// answered while it computes.
import type { CreateSegmenterOptions } from '../api/segmenter.js';
import type { ErrorCode } from '../errors.js';
import type { ServiceModelInfo, ServiceSegmentResult } from './backend.js';

export type ToWorker =
  | { type: 'segment'; id: number; image: Uint8Array; labels: string[]; overlay: boolean };

export type FromWorker =
  | { type: 'ready'; model: ServiceModelInfo }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; result: ServiceSegmentResult }
  | { type: 'error'; id: number; error: WireError };

/** An AhsError across the thread boundary (its code, status and message survive). */
export interface WireError { code: ErrorCode; message: string }

/** What the worker is started with (workerData). */
export interface WorkerInit { options: Omit<CreateSegmenterOptions, 'onLog' | 'download'> & { cacheDir?: string } }
