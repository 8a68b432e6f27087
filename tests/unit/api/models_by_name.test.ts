// Models by name against local stand-ins for the Hugging Face hub (never the network): CAT-Seg's
// checkpoints from a Space path, the CLIP of clip-vit-b16 from a repository that has only
// pytorch_model.bin, the cache (a second use makes no request), the offline instructions, and the
// pre-CVPR CAT-Seg checkpoints refused by their keys or their name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSegmenter, fetchModel, listModels, planModel } from '../../../src/api/index.js';
import { CATSEG_SPACE } from '../../../src/api/models.js';
import { cachedFilePath } from '../../../src/models/clip/hub/cache_dir.js';
import { saveTensors } from '../../../src/io/tensor_io.js';
import { dispose, randn } from '../../../src/tensor/index.js';
import type { DownloadProgress } from '../../../src/progress.js';
import { isAhsError } from '../../helpers/ahs_error.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { startFakeHub, type FakeHub } from '../../helpers/fake_hub.js';
import { randomHfClip } from '../../helpers/hf_clip.js';
import { TINY_CLIP_64 } from '../../helpers/shapes_dataset.js';

const CLIP_REPO = 'openai/clip-vit-base-patch16';
let dir: string;
let clipHf: { model: Buffer; config: Buffer };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-models-'));
  clipHf = randomHfClip(TINY_CLIP_64, 4, join(dir, 'hf'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const urls = (hub: FakeHub) => hub.requests.map((r) => `${r.method} ${r.url}`);

describe('catalog models from the hub', () => {
  // Wrong here: the CVPR'24 checkpoints are looked for in a model repository (they live in a
  // Space), land outside the cache, are downloaded twice, or come without their shipped config.
  it('catseg-vitb: the Space path, progress, the cache, the shipped config', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const hub = await startFakeHub(CATSEG_SPACE, { 'model_base.pth': bytes });
    try {
      const cacheDir = join(dir, 'cache_space');
      const events: DownloadProgress[] = [];
      const plan = planModel('catseg-vitb');
      assert.equal(plan.kind, 'catseg');
      const got = await fetchModel(plan, { endpoint: hub.endpoint, cacheDir, onProgress: (p) => events.push({ ...p }) });
      assert.deepEqual(urls(hub), ['HEAD /spaces/hamacojr/CAT-Seg-weights/resolve/main/model_base.pth', 'GET /spaces/hamacojr/CAT-Seg-weights/resolve/main/model_base.pth']);
      assert.deepEqual(got, { kind: 'catseg', name: 'catseg-vitb', weights: cachedFilePath(CATSEG_SPACE, 'main', 'model_base.pth', cacheDir), config: join(REPO_ROOT, 'configs/vitb_384.yaml') });
      assert.deepEqual(readFileSync(got.kind === 'catseg' ? got.weights : ''), bytes);
      assert.deepEqual(events.at(-1), { file: 'model_base.pth', received: bytes.length, total: bytes.length });
      const n = hub.requests.length;
      assert.deepEqual(await fetchModel(planModel('CATSEG-VITB '), { endpoint: hub.endpoint, cacheDir }), got, 'names ignore case and blanks');
      assert.equal(hub.requests.length, n, 'a cached model makes no request');
      const listed = listModels({ cacheDir, endpoint: hub.endpoint });
      const b = listed.find((m) => m.name === 'catseg-vitb')!;
      assert.deepEqual([b.cached, b.bytes, b.size], [got.kind === 'catseg' ? got.weights : '', bytes.length, 'cached']);
      const l = listed.find((m) => m.name === 'catseg-vitl')!;
      assert.equal(l.cached, null);
      assert.equal(l.size, 'estimated');
      assert.ok(l.bytes > 1e9, `ViT-L CAT-Seg is over a GB of fp32 weights, got ${l.bytes}`);
      assert.equal(l.url, `${hub.endpoint}/spaces/hamacojr/CAT-Seg-weights/resolve/main/model_large.pth`);
      assert.deepEqual(listed.filter((m) => m.isDefault).map((m) => m.name), ['clip-vit-b16']);
    } finally {
      await hub.close();
    }
  });

  // Wrong here: a repository without model.safetensors cannot be used, or the fallback file is
  // fetched again on every use.
  it('clip-vit-b16 from a repository with only pytorch_model.bin, then from the cache', async () => {
    // The loader reads a weights file by its bytes, not its name: safetensors bytes stand in for
    // the torch.save zip a real pytorch_model.bin holds (that reader has its own tests).
    const hub = await startFakeHub(CLIP_REPO, { 'config.json': clipHf.config, 'pytorch_model.bin': clipHf.model });
    try {
      const cacheDir = join(dir, 'cache_bin');
      const opts = { model: 'clip-vit-b16', download: { endpoint: hub.endpoint, cacheDir }, textCacheDir: null, pamr: false, shortSide: 64 } as const;
      const seg = await createSegmenter(opts);
      assert.deepEqual(urls(hub), [
        `HEAD /${CLIP_REPO}/resolve/main/config.json`, `GET /${CLIP_REPO}/resolve/main/config.json`,
        `HEAD /${CLIP_REPO}/resolve/main/model.safetensors`,
        `HEAD /${CLIP_REPO}/resolve/main/pytorch_model.bin`, `GET /${CLIP_REPO}/resolve/main/pytorch_model.bin`,
      ]);
      assert.ok(existsSync(cachedFilePath(CLIP_REPO, 'main', 'pytorch_model.bin', cacheDir)));
      assert.ok(!existsSync(cachedFilePath(CLIP_REPO, 'main', 'model.safetensors', cacheDir)));
      const r = await seg.segment({ data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32 }, ['sky', 'sea']);
      assert.equal(r.labels.length, 32 * 32);
      seg.dispose();
      const n = hub.requests.length;
      (await createSegmenter(opts)).dispose();
      assert.equal(hub.requests.length, n, 'the cached pytorch_model.bin serves without a request');
      assert.equal(listModels({ cacheDir }).find((m) => m.name === 'clip-vit-b16')!.cached, cachedFilePath(CLIP_REPO, 'main', 'pytorch_model.bin', cacheDir));
    } finally {
      await hub.close();
    }
  });

  // Wrong here: a repository with neither file reports only the fallback's 404.
  it('neither model.safetensors nor pytorch_model.bin: a download error naming both', async () => {
    const hub = await startFakeHub(CLIP_REPO, { 'config.json': clipHf.config });
    try {
      await assert.rejects(fetchModel(planModel('clip-vit-b16'), { endpoint: hub.endpoint, cacheDir: join(dir, 'cache_none') }),
        isAhsError('AHS_ERR_DOWNLOAD', /pytorch_model\.bin returned HTTP 404 .*\(nor has it model\.safetensors\)$/));
    } finally {
      await hub.close();
    }
  });

  // Wrong here: offline, the user is not told exactly which files to fetch and where to put them.
  it('offline: the error lists each URL and its place in the cache, the fallback included', async () => {
    const cacheDir = join(dir, 'cache_offline');
    const err = await createSegmenter({ model: 'catseg-vitb', download: { offline: true, cacheDir } }).then(() => null, (e: unknown) => e);
    isAhsError('AHS_ERR_OFFLINE', /^CAT-Seg checkpoint "catseg-vitb" is not complete in the local cache and cannot be downloaded \(offline mode was requested\)/)(err);
    const msg = (err as Error).message;
    assert.ok(msg.includes('https://huggingface.co/spaces/hamacojr/CAT-Seg-weights/resolve/main/model_base.pth'), msg);
    assert.ok(msg.includes(`-> ${cachedFilePath(CATSEG_SPACE, 'main', 'model_base.pth', cacheDir)}`), msg);
    const clipErr = await createSegmenter({ model: 'clip-vit-b16', download: { offline: true, cacheDir } }).then(() => null, (e: unknown) => e);
    isAhsError('AHS_ERR_OFFLINE', /config\.json[^]*model\.safetensors[^]*or, where the repository has no model\.safetensors, https:\/\/huggingface\.co\/openai\/clip-vit-base-patch16\/resolve\/main\/pytorch_model\.bin/)(clipErr);
    const closed = await startFakeHub(CLIP_REPO, {});
    await closed.close();
    await assert.rejects(createSegmenter({ model: 'catseg-vitl', download: { endpoint: closed.endpoint, cacheDir, retries: 0 } }),
      isAhsError('AHS_ERR_OFFLINE', /cannot reach 127\.0\.0\.1[^]*model_large\.pth/));
  });
});

describe('pre-CVPR CAT-Seg checkpoints', () => {
  const save = (name: string, keys: string[]) => {
    const t = new Map(keys.map((k) => [k, randn([2, 2])]));
    saveTensors(join(dir, name), t);
    dispose([...t.values()]);
    return join(dir, name);
  };
  const clipKey = 'sem_seg_head.predictor.clip_model.visual.conv1.weight';

  // Wrong here: the old architecture loads as a list of hundreds of unexpected keys, or a
  // CVPR checkpoint that happens to carry the old file name is refused.
  it('recognised by their keys (ResNet-101 or Swin-B guidance backbone), whatever the file is called', () => {
    const r101 = save('model_final_base.pth', ['backbone.stem.conv1.weight', 'backbone.res2.0.conv1.weight', clipKey]);
    assert.throws(() => planModel(r101), isAhsError('AHS_ERR_STATE_DICT',
      /^'.*model_final_base\.pth' is a pre-CVPR CAT-Seg checkpoint \(recognised by its keys: 2 under 'backbone\.', e\.g\. 'backbone\.stem\.conv1\.weight', a separate ResNet-101 guidance backbone .*use --model catseg-vitb or catseg-vitl/));
    const swin = save('renamed.safetensors', ['backbone.patch_embed.proj.weight', 'backbone.layers.0.blocks.0.attn.qkv.weight', clipKey]);
    assert.throws(() => planModel(swin), isAhsError('AHS_ERR_STATE_DICT', /recognised by its keys: .* a separate Swin-B guidance backbone/));
    writeFileSync(join(dir, 'config.yaml'), `_BASE_: ${join(REPO_ROOT, 'configs/vitb_384.yaml')}\n`);
    const cvpr = save('model_final_large.pth', [clipKey, 'upsample1.weight']);
    assert.equal(planModel(cvpr).kind, 'catseg', 'CVPR keys load whatever the name');
  });

  // Wrong here: pointing at the old model repository downloads 1 GB that cannot load.
  it('recognised by their name where there is no file to read', () => {
    for (const name of ['hamacojr/CAT-Seg', 'https://huggingface.co/hamacojr/CAT-Seg/resolve/main/model_final_huge.pth', 'weights/model_final_giant.pth']) {
      assert.throws(() => planModel(name), isAhsError('AHS_ERR_STATE_DICT', /names a pre-CVPR CAT-Seg checkpoint \(recognised by its name: .*spaces\/hamacojr\/CAT-Seg-weights/), name);
    }
  });
});
