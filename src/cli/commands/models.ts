// `ahs-seg models`: the names --model takes, each one's size, and whether it is in the cache
// (and where its file comes from and goes, which is what to fetch by hand when offline).
import { fmtBytes } from '../../engine/memory_budget.js';
import { cachedFilePath } from '../../models/clip/hub/cache_dir.js';
import { hubFileUrl, resolveEndpoint } from '../../models/clip/hub/download.js';
import { listModels } from '../../api/model_listing.js';
import { MODELS } from '../../api/models.js';

export function modelsCommand(opts: { json?: boolean }): void {
  const list = listModels();
  if (opts.json) {
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    return;
  }
  const rows = list.map((m) => [
    m.name + (m.isDefault ? ' (default)' : ''), m.kind, `${m.size === 'estimated' ? '~' : ''}${fmtBytes(m.bytes)}`, m.cached ? `cached at ${m.cached}` : 'not downloaded',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['name', 'kind', 'size'][i]!.length));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
  const out = [line(['name', 'kind', 'size', 'cache']), ...rows.map(line), ''];
  for (const m of list) {
    out.push(`${m.name}: ${m.description}`);
    if (!m.cached) {
      const h = MODELS.find((x) => x.name === m.name)!.hub;
      for (const f of h.files) out.push(`  ${hubFileUrl(resolveEndpoint(), h.repo, h.revision, f)}`, `    -> ${cachedFilePath(h.repo, h.revision, f, m.cacheDir)}`);
    }
  }
  out.push('', `Cache folder: ${list[0]?.cacheDir ?? ''} (AHS_SEG_CACHE); a model is downloaded on first use (HF_ENDPOINT for a mirror, HF_HUB_OFFLINE=1 never to try).`,
    '--model also takes an `ahs-seg train` OUTPUT_DIR or checkpoint (config.yaml beside it), or CLIP weights (the training-free method runs).');
  process.stdout.write(out.join('\n') + '\n');
}
