// Progress on stderr for downloads (bytes, shown in MB) and evaluations (images): a redrawn bar
// when the stream is a TTY (percentage, done/total, rate, ETA), otherwise one plain line per ~10%
// so that logs stay short. Dependency-free.

export interface DownloadProgress {
  /** File name relative to the repository (e.g. `model.safetensors`). */
  file: string;
  /** Bytes on disk so far, including bytes kept from an earlier, interrupted run. */
  received: number;
  /** Expected total size in bytes, when known. */
  total: number | undefined;
}

export type ProgressCallback = (p: DownloadProgress) => void;

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Where to draw; default process.stderr. */
  stream?: ProgressStream;
  /** Force bar (true) or line (false) mode; default `stream.isTTY`. */
  tty?: boolean;
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
  /** Minimum ms between two bar redraws; default 100. */
  redrawMs?: number;
  /** Line mode with an unknown total: one line per this many bytes; default 50 MB. */
  unknownStepBytes?: number;
  /** What is counted: default bytes shown as MB; e.g. { name: 'img', scale: 1, decimals: 0 }. */
  unit?: { name: string; scale: number; decimals: number };
  /** Line mode: add the ETA to each line too (long jobs whose log is read while they run). */
  lineEta?: boolean;
}

const MB = 1024 * 1024;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

interface FileState {
  startAt: number;
  startBytes: number;
  lastDraw: number;
  lastStep: number;
  done: boolean;
}

/** Returns an `onProgress` callback that reports on stderr (or `opts.stream`). */
export function createProgressReporter(opts: ProgressOptions = {}): ProgressCallback {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? Date.now;
  const redrawMs = opts.redrawMs ?? 100;
  const unknownStep = opts.unknownStepBytes ?? 50 * MB;
  const states = new Map<string, FileState>();
  const unit = opts.unit ?? { name: 'MB', scale: MB, decimals: 1 };
  const mb = (n: number): string => (n / unit.scale).toFixed(unit.decimals);

  return (p: DownloadProgress): void => {
    const t = now();
    let st = states.get(p.file);
    if (st === undefined || (st.done && p.received < (p.total ?? Infinity))) {
      st = { startAt: t, startBytes: p.received, lastDraw: -Infinity, lastStep: -1, done: false };
      states.set(p.file, st);
    }
    if (st.done) return;
    const total = p.total !== undefined && p.total > 0 ? p.total : undefined;
    const finished = total !== undefined && p.received >= total;
    const elapsed = (t - st.startAt) / 1000;
    const rate = elapsed > 0 ? (p.received - st.startBytes) / elapsed : 0;
    const frac = total !== undefined ? Math.min(1, p.received / total) : undefined;
    const pct = frac !== undefined ? `${Math.floor(frac * 100)}%` : '';

    if (tty) {
      if (!finished && t - st.lastDraw < redrawMs) return;
      st.lastDraw = t;
      const size = total !== undefined ? `${mb(p.received)}/${mb(total)} ${unit.name}` : `${mb(p.received)} ${unit.name}`;
      const speed = `${(rate / unit.scale).toFixed(unit.decimals === 0 ? 2 : 1)} ${unit.name}/s`;
      const eta = total !== undefined && rate > 0 ? `ETA ${clock((total - p.received) / rate)}` : '';
      let bar = '';
      if (frac !== undefined) {
        const width = 24;
        const full = Math.round(frac * width);
        bar = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${pct.padStart(4)} `;
      }
      let line = `${p.file} ${bar}${size}  ${speed}  ${eta}`.trimEnd();
      const cols = stream.columns ?? 0;
      if (cols > 10 && line.length >= cols) line = line.slice(0, cols - 1);
      stream.write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
    } else {
      const step = frac !== undefined ? Math.floor(frac * 10) : Math.floor(p.received / unknownStep);
      if (step === st.lastStep && !finished) return;
      st.lastStep = step;
      const size = total !== undefined ? `${mb(p.received)}/${mb(total)} ${unit.name}` : `${mb(p.received)} ${unit.name}`;
      const eta = opts.lineEta && total !== undefined && rate > 0 && !finished ? `, ETA ${clock((total - p.received) / rate)}` : '';
      stream.write(`${p.file}: ${pct ? `${pct} ` : ''}(${size}, ${(rate / unit.scale).toFixed(unit.decimals === 0 ? 2 : 1)} ${unit.name}/s${eta})\n`);
    }
    if (finished) st.done = true;
  };
}
