// The overlay: class colours blended over the photo, with a legend panel to its right (a colour
// swatch, the class name and its pixel share for each class present, largest first), drawn as an
// SVG and composited by sharp. The photo keeps its pixel coordinates (top-left of the canvas), so
// a pixel of the overlay is the same pixel of the label map.
import sharp from 'sharp';
import { printable } from '../errors.js';
import { classColor, colourMaskRgb } from './colour_mask.js';

export interface LegendLayout {
  /** Top-left of entry k's swatch is (x, y0 + k * row); its side is `swatch`. */
  x: number;
  y0: number;
  row: number;
  swatch: number;
  /** Class index of each entry, in drawing order. */
  entries: number[];
}

export interface OverlayOptions {
  /** Weight of the class colours, 0..1 (default 0.5). */
  opacity?: number;
  /** At most this many legend rows (default 40); the rest is summed up in one line. */
  maxEntries?: number;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** Where the legend goes for an image of this size (also what tests read swatches from). */
export function legendLayout(width: number, height: number, shares: readonly number[], maxEntries = 40, longestEntry = 32): LegendLayout & { font: number; panel: number; canvasHeight: number; more: number } {
  const s = Math.max(1, Math.round(Math.min(width, height) / 400));
  const font = 12 * s, row = 18 * s, swatch = 14 * s, pad = 6 * s;
  const present = shares.map((f, c) => [c, f] as const).filter(([, f]) => f > 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const entries = present.slice(0, maxEntries).map(([c]) => c);
  const more = present.length - entries.length;
  // Sized for the longest entry (DejaVu Sans averages about 0.6 em per character), within bounds.
  const panel = Math.min(360 * s, Math.max(100 * s, pad * 3 + swatch + Math.ceil(0.6 * font * longestEntry)));
  const rows = entries.length + (more > 0 ? 1 : 0);
  return { x: width + pad, y0: pad, row, swatch, entries, font, panel, more, canvasHeight: Math.max(height, pad * 2 + rows * row) };
}

/** The overlay PNG with its legend. `image` is interleaved RGB of the same size as `labels`. */
export async function overlayWithLegend(image: Uint8Array, labels: ArrayLike<number>, width: number, height: number,
  classNames: readonly string[], shares: readonly number[], opts: OverlayOptions = {}): Promise<Buffer> {
  const a = Math.min(1, Math.max(0, opts.opacity ?? 0.5));
  const colours = colourMaskRgb(labels, classNames.length);
  const blended = Buffer.alloc(colours.length);
  for (let i = 0; i < colours.length; i++) blended[i] = Math.round((1 - a) * image[i]! + a * colours[i]!);
  const entry = (c: number) => `${printable(classNames[c]!)} ${(100 * shares[c]!).toFixed(1)}%`;
  const longest = classNames.reduce((m, _, c) => (shares[c]! > 0 ? Math.max(m, entry(c).length) : m), 16);
  const L = legendLayout(width, height, shares, opts.maxEntries, longest);
  const maxChars = Math.floor((L.panel - 3 * (L.x - width) - L.swatch) / (0.6 * L.font));
  const fit = (s: string) => (s.length > maxChars ? `${s.slice(0, Math.max(1, maxChars - 1))}\u2026` : s);
  const text = (x: number, y: number, s: string) => `<text x="${x}" y="${y}" font-family="sans-serif" font-size="${L.font}" fill="#000">${escapeXml(s)}</text>`;
  const parts: string[] = [];
  L.entries.forEach((c, k) => {
    const [r, g, b] = classColor(c);
    const y = L.y0 + k * L.row;
    parts.push(`<rect x="${L.x}" y="${y}" width="${L.swatch}" height="${L.swatch}" fill="rgb(${r},${g},${b})"/>`);
    parts.push(text(L.x + L.swatch + (L.x - width), y + L.swatch - 2, fit(entry(c))));
  });
  if (L.more > 0) parts.push(text(L.x, L.y0 + L.entries.length * L.row + L.swatch - 2, `+ ${L.more} more class${L.more === 1 ? '' : 'es'}`));
  const W = width + L.panel, H = L.canvasHeight;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
  const { data, info } = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: blended, raw: { width, height, channels: 3 }, left: 0, top: 0 }, { input: Buffer.from(svg), left: 0, top: 0 }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Compositing the SVG adds an alpha channel; the overlay is opaque RGB.
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).removeAlpha().png().toBuffer();
}
