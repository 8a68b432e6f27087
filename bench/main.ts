// Benchmarks: `npm run bench -- <suite> [--profile]`; suites print figures and ratios taken in one
// run. `--profile` (pipeline) adds a per-op time table of one extra run, by op and input shape.
const suites: Record<string, () => Promise<void>> = {
  engine: async () => (await import('./engine.js')).benchEngine(),
  clip: async () => (await import('./clip.js')).benchClip(),
  pipeline: async () => (await import('./pipeline.js')).benchPipeline(),
  train: async () => (await import('./train.js')).benchTrain(),
  loader: async () => void (await import('./loader.js')).benchLoader(),
  'zero-shot': async () => (await import('./zero_shot.js')).benchZeroShot(),
  ahs: async () => (await import('./ahs.js')).benchAhs(),
  serve: async () => (await import('./serve.js')).benchServe(),
};

const name = process.argv[2] ?? 'engine';
const run = suites[name];
if (!run) {
  process.stderr.write(`unknown bench suite '${name}'; available: ${Object.keys(suites).join(', ')}\n`);
  process.exit(2);
}
await run();
