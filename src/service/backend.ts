// What the HTTP service asks of a model: one typed request and reply, so the server does not
// care whether the model runs in this thread or a worker, or which method it is.
import type { AhsError } from '../errors.js';
export interface ServiceSegmentRequest {
  /** The encoded image (PNG, JPEG, WebP or TIFF), already checked by checkImage. */
  image: Buffer;
  labels: string[];
  /** Also return the colour overlay with its legend. */
  overlay: boolean;
}

export interface ServiceClassResult {
  name: string;
  /** RGB of this class in the colour mask and the overlay. */
  color: [number, number, number];
  /** Fraction of the image's pixels labelled with this class. */
  share: number;
  /** Mean probability of the winning class over those pixels (null when it has none). */
  meanConfidence: number | null;
}

export interface ServiceSegmentResult {
  width: number;
  height: number;
  classes: ServiceClassResult[];
  /** Class index per pixel, row-major. */
  labels: Uint16Array;
  /** The same as a PNG (8-bit, 16-bit beyond 256 classes). */
  labelsPng: Buffer;
  /** The colour overlay with a legend, when asked for. */
  overlayPng?: Buffer;
}

export interface ServiceModelInfo { name: string; kind: string; loaded: boolean }

export interface SegmentBackend {
  /** The model requests run on. */
  readonly model: ServiceModelInfo;
  /** True once the model is loaded and can take requests. */
  ready(): boolean;
  /** Why the model cannot serve at all (it failed to load, its worker died); null while fine. */
  readonly failure?: AhsError | null;
  segment(req: ServiceSegmentRequest): Promise<ServiceSegmentResult>;
  close(): Promise<void>;
}
