// A data loader worker thread: receives jobs {id, job}, answers {id, ok, result} with the mapped
// sample's arrays transferred (not copied), or {id, ok: false, error}. Its imports stay free of the
// tensor engine (see load_sample.ts); the mapper module is imported once, on the first job.
import { parentPort, workerData } from 'node:worker_threads';
import { importMapper, loadAndMap, serializeError, transferables, type LoadSettings, type MapperFn, type SampleJob } from './load_sample.js';

export interface JobMessage {
  id: number;
  job: SampleJob;
}

export type ResultMessage =
  | { id: number; ok: true; result: import('./load_sample.js').LoadedSample }
  | { id: number; ok: false; error: import('./load_sample.js').SerializedError };

const port = parentPort;
if (!port) throw new Error('loader_worker.ts runs only as a worker thread (see loader.ts)');
const settings = workerData as LoadSettings;
let mapper: Promise<MapperFn> | undefined;

port.on('message', (msg: JobMessage) => {
  void (async () => {
    try {
      mapper ??= importMapper(settings.mapper);
      const result = await loadAndMap(msg.job, settings, await mapper);
      const reply: ResultMessage = { id: msg.id, ok: true, result };
      port.postMessage(reply, transferables(result.sample));
    } catch (err) {
      const reply: ResultMessage = { id: msg.id, ok: false, error: serializeError(err) };
      port.postMessage(reply);
    }
  })();
});
