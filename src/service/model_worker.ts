// The worker thread that owns the model (started by WorkerBackend): it builds the segmenter once,
// then answers segment requests one at a time. Every failure goes back as a message with its
// AhsError code; a crash of the thread itself is WorkerBackend's to report.
import { parentPort, workerData } from 'node:worker_threads';
import { createSegmenter, type ImageSegmenter } from '../api/segmenter.js';
import { toAhsError } from '../cli/error_report.js';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './worker_protocol.js';

const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const wire = (e: unknown): WireError => { const a = toAhsError(e); return { code: a.code, message: a.message }; };

async function main(): Promise<void> {
  const { options } = workerData as WorkerInit;
  let seg: ImageSegmenter;
  try {
    const { cacheDir, ...rest } = options;
    seg = await createSegmenter({ ...rest, ...(cacheDir ? { download: { cacheDir } } : {}) });
  } catch (e) {
    send({ type: 'failed', error: wire(e) });
    return;
  }
  send({ type: 'ready', model: { name: seg.model.name, kind: `${seg.model.kind} (${seg.model.method}, ${seg.model.protocol})`, loaded: true } });
  port.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        const r = await seg.segment(m.image, m.labels, { labelPng: true, overlay: m.overlay });
        const labels = r.labels instanceof Uint16Array ? r.labels : Uint16Array.from(r.labels);
        send({
          type: 'result', id: m.id,
          result: {
            width: r.width, height: r.height, labels, labelsPng: r.labelPng!, ...(r.overlay ? { overlayPng: r.overlay } : {}),
            classes: r.classes.map((c) => ({ name: c.name, color: [c.color[0], c.color[1], c.color[2]], share: c.share, meanConfidence: c.meanConfidence })),
          },
        }, [labels.buffer as ArrayBuffer]);
      } catch (e) {
        send({ type: 'error', id: m.id, error: wire(e) });
      }
    })();
  });
}

void main();
