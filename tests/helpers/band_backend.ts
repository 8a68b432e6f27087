// A stand-in model for the HTTP service's tests: class k is the k-th brightness band of the red
// channel, so a test can predict every pixel's label without a network.
import sharp from 'sharp';
import type { SegmentBackend, ServiceSegmentRequest, ServiceSegmentResult } from '../../src/service/backend.js';

export class BandBackend implements SegmentBackend {
  readonly model = { name: 'bands', kind: 'stand-in', loaded: true };
  loaded = true;
  delayMs = 0;
  calls = 0;
  ready(): boolean { return this.loaded; }
  async segment(req: ServiceSegmentRequest): Promise<ServiceSegmentResult> {
    this.calls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const { data, info } = await sharp(req.image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const T = req.labels.length, n = info.width * info.height;
    const labels = new Uint8Array(n);
    const counts = new Array<number>(T).fill(0);
    for (let i = 0; i < n; i++) { labels[i] = Math.min(T - 1, Math.floor((data[3 * i]! * T) / 256)); counts[labels[i]!]!++; }
    const labelsPng = await sharp(Buffer.from(labels), { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
    return {
      width: info.width, height: info.height, labelsPng, labels: Uint16Array.from(labels),
      classes: req.labels.map((name, k) => ({ name, color: [k * 40, 0, 0], share: counts[k]! / n, meanConfidence: counts[k] ? 1 : null })),
    };
  }
  async close(): Promise<void> {}
}

