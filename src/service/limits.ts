// What one request may ask of the server, checked before any model work: the body size (by
// fastify), the image's pixel count from its header (sharp reads it without decoding), the label
// count and each label's length; each a 4xx with the limit named.
import sharp from 'sharp';
import { AhsError } from '../errors.js';
import { checkClassNames } from '../data/class_names.js';

export interface ServiceLimits {
  /** Request body, bytes (default 20 MB). */
  bodyBytes: number;
  /** Image pixels, width x height (default 40 MP). */
  imagePixels: number;
  /** Labels per request (default 512). */
  labels: number;
  /** Characters per label (default 200; CLIP's 77 tokens are checked later by the model). */
  labelChars: number;
  /** Requests waiting behind the running one (default 8). */
  queue: number;
  /** Per-request time limit, ms (default 120 s). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyBytes: 20 * 1024 * 1024, imagePixels: 40e6, labels: 512, labelChars: 200, queue: 8, timeoutMs: 120_000,
};

/** Width and height from the image header; not an image (or one sharp cannot read) is a 400. */
export async function checkImage(bytes: Buffer, limits: ServiceLimits): Promise<{ width: number; height: number }> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `the image field is not an image ahs-seg can read (PNG, JPEG, WebP, TIFF): ${(e as Error).message}`, { cause: e });
  }
  const { width, height } = meta;
  if (!width || !height) throw new AhsError('AHS_ERR_FILE_FORMAT', 'the image has no width or height in its header');
  if (width * height > limits.imagePixels) {
    throw new AhsError('AHS_ERR_TOO_LARGE', `the image is ${width}x${height} = ${(width * height / 1e6).toFixed(1)} MP, more than this server's limit of ${(limits.imagePixels / 1e6).toFixed(1)} MP; send a smaller image`);
  }
  return { width, height };
}

/** Labels as a list: a JSON array, or one comma-separated string (as the CLI's --labels). */
export function parseLabels(raw: unknown, limits: ServiceLimits): string[] {
  let labels: unknown = raw;
  if (typeof raw === 'string') {
    const t = raw.trim();
    labels = t.startsWith('[') ? safeJson(t) : t.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'labels must be a JSON array of strings or one comma-separated string, e.g. "sky, espresso cup, saucer"');
  }
  if (labels.length === 0 || (labels.length === 1 && labels[0] === '')) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'labels: give at least one class name');
  if (labels.length > limits.labels) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `labels: ${labels.length} given, this server takes at most ${limits.labels}`);
  const long = (labels as string[]).findIndex((l) => l.length > limits.labelChars);
  if (long >= 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `labels: entry ${long + 1} has ${(labels as string[])[long]!.length} characters, this server takes at most ${limits.labelChars}`);
  return checkClassNames(labels as string[], 'labels');
}

function safeJson(t: string): unknown {
  try {
    return JSON.parse(t);
  } catch {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'labels starts with [ but is not a JSON array of strings');
  }
}
