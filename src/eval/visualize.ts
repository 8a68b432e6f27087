// Side-by-side PNGs `image | ground truth | prediction` with a legend of the classes present,
// for eyeballing an evaluation. Colours come from the PASCAL VOC colour map (bits of the label
// index spread over R, G and B), which is deterministic, gives VOC its familiar colours, and
// stays distinct for every index below 2^24 (enough for ADE-847).

import sharp from 'sharp';
import { check } from '../errors.js';
import { writeFileAtomic } from '../io/atomic_write.js';

export type Rgb = readonly [number, number, number];

/** Colour of ignored pixels (the colour VOC gives its 255 "void" border). */
export const IGNORE_COLOR: Rgb = [224, 224, 192];

/** PASCAL VOC colour map entry for a label index. */
export function labelColor(index: number): Rgb {
  let r = 0;
  let g = 0;
  let b = 0;
  let c = index;
  for (let j = 0; j < 8; j++) {
    r |= (c & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

export interface LabelImage {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** RGB bytes of a label map; `ignoreLabel` pixels get IGNORE_COLOR. */
export function colorizeLabels(map: LabelImage, ignoreLabel: number): Buffer {
  const out = Buffer.alloc(map.width * map.height * 3);
  const cache = new Map<number, Rgb>();
  for (let i = 0; i < map.width * map.height; i++) {
    const v = map.data[i];
    let col = cache.get(v);
    if (!col) {
      col = v === ignoreLabel ? IGNORE_COLOR : labelColor(v);
      cache.set(v, col);
    }
    out[3 * i] = col[0];
    out[3 * i + 1] = col[1];
    out[3 * i + 2] = col[2];
  }
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface SideBySideOptions {
  /** The photo (path or encoded bytes); resized to the label size if it differs. */
  image: string | Buffer;
  gt: LabelImage;
  pred: LabelImage;
  /** Names indexed by label value, for the legend. */
  classNames: readonly string[];
  ignoreLabel: number;
  outPath: string;
}

const HEADER = 20;
const ROW = 18;
const LEGEND_COL = 200;

/** Renders the side-by-side PNG in memory. */
export async function renderSideBySide(opts: Omit<SideBySideOptions, 'outPath'>): Promise<Buffer> {
  const { gt, pred, ignoreLabel, classNames } = opts;
  check(
    gt.width === pred.width && gt.height === pred.height,
    'AHS_ERR_SHAPE',
    () => `renderSideBySide: ground truth is ${gt.width}x${gt.height} but prediction is ${pred.width}x${pred.height}`,
  );
  const w = gt.width;
  const h = gt.height;
  const present = new Set<number>();
  for (const m of [gt, pred]) {
    for (let i = 0; i < w * h; i++) if (m.data[i] !== ignoreLabel) present.add(m.data[i]);
  }
  const classes = [...present].sort((a, b) => a - b);
  const cols = Math.max(1, Math.floor((3 * w) / LEGEND_COL));
  const legendH = classes.length === 0 ? 0 : Math.ceil(classes.length / cols) * ROW + 8;
  const totalW = 3 * w;
  const totalH = HEADER + h + legendH;

  const text = (x: number, y: number, s: string): string =>
    `<text x="${x}" y="${y}" font-family="sans-serif" font-size="12" fill="#000">${escapeXml(s)}</text>`;
  const parts = [text(4, 14, 'image'), text(w + 4, 14, 'ground truth'), text(2 * w + 4, 14, 'prediction')];
  classes.forEach((c, i) => {
    const x = (i % cols) * LEGEND_COL + 4;
    const y = HEADER + h + 4 + Math.floor(i / cols) * ROW;
    const [r, g, b] = labelColor(c);
    const name = classNames[c] ?? '(unknown class)';
    parts.push(`<rect x="${x}" y="${y}" width="14" height="14" fill="rgb(${r},${g},${b})" stroke="#000"/>`);
    parts.push(text(x + 18, y + 12, `${c} ${name}`));
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}">${parts.join('')}</svg>`;

  const photo = await sharp(opts.image).removeAlpha().resize(w, h, { fit: 'fill' }).toColourspace('srgb').raw().toBuffer();
  const raw = { width: w, height: h, channels: 3 as const };
  return sharp({ create: { width: totalW, height: totalH, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      { input: photo, raw, left: 0, top: HEADER },
      { input: colorizeLabels(gt, ignoreLabel), raw, left: w, top: HEADER },
      { input: colorizeLabels(pred, ignoreLabel), raw, left: 2 * w, top: HEADER },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** Writes the side-by-side PNG atomically. */
export async function writeSideBySide(opts: SideBySideOptions): Promise<void> {
  await writeFileAtomic(opts.outPath, await renderSideBySide(opts));
}
