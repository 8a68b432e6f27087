// The setting the training e2e tests share: a temporary folder (removed after the file's tests)
// with its own weights cache, the synthetic shapes dataset, tiny CLIP weights, and a config writer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ClipConfig } from '../../src/models/clip/clip_model.js';
import { REPO_ROOT } from './cli.js';
import { tinyTrainConfig, writeShapesDataset, writeTinyClip } from './shapes_dataset.js';

export interface TrainingWorkspace {
  /** Filled in by the before() hook. */
  dir: string;
  data: string;
  clip: string;
  /** Writes `<dir>/<out>.yaml`, a tiny training config with OUTPUT_DIR `<dir>/<out>`; its path. */
  configFor(out: string): string;
}

/** Registers the before/after hooks of the calling test file and returns the workspace. */
export function trainingWorkspace(prefix: string, o: { images?: number; clip?: ClipConfig } = {}): TrainingWorkspace {
  const saved = { ...process.env };
  const ws: TrainingWorkspace = {
    dir: '', data: '', clip: '',
    configFor(out) {
      const p = join(ws.dir, `${out}.yaml`);
      writeFileSync(p, tinyTrainConfig(REPO_ROOT, { clip: ws.clip, data: ws.data, out: join(ws.dir, out) }));
      return p;
    },
  };
  before(async () => {
    ws.dir = mkdtempSync(join(tmpdir(), prefix));
    process.env.AHS_SEG_CACHE = join(ws.dir, 'cache');
    ws.data = await writeShapesDataset(join(ws.dir, 'shapes'), o.images ?? 8);
    ws.clip = writeTinyClip(join(ws.dir, 'clip.safetensors'), 11, o.clip); // undefined: the default tiny CLIP
  });
  after(() => {
    process.env = saved;
    rmSync(ws.dir, { recursive: true, force: true });
  });
  return ws;
}
