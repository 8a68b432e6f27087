// A dependency-free progress line on stderr: a redrawn bar with rate and ETA on a TTY, one line
// per ~10% otherwise (CI logs). Used by the CLI, downloads and evaluations.

export interface ProgressLine {
  update(done: number, total: number, note?: string): void;
  done(note?: string): void;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** `unit` names what is counted ('img', 'MB'); `scale` converts counts for display (bytes -> MB). */
export function progressLine(label: string, opts: { unit?: string; scale?: number; stream?: NodeJS.WriteStream } = {}): ProgressLine {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const scale = opts.scale ?? 1;
  const unit = opts.unit ?? '';
  const start = Date.now();
  let lastDecile = -1;
  let lastDraw = 0;
  const line = (done: number, total: number, note?: string): string => {
    const el = (Date.now() - start) / 1000;
    const rate = done / Math.max(el, 1e-3);
    const eta = total > done && rate > 0 ? (total - done) / rate : 0;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    const width = 24;
    const fill = total > 0 ? Math.round((width * done) / total) : 0;
    const bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
    const d = (v: number) => (scale === 1 ? String(v) : (v / scale).toFixed(1));
    return `${label} ${bar} ${pct}% ${d(done)}/${d(total)}${unit} ${(rate / scale).toFixed(2)}${unit}/s ETA ${fmtDuration(eta)}${note ? ' ' + note : ''}`;
  };
  return {
    update(done, total, note) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        stream.write(`\r${line(done, total, note)}\x1b[K`);
      } else {
        const decile = total > 0 ? Math.floor((10 * done) / total) : 0;
        if (decile !== lastDecile) { lastDecile = decile; stream.write(line(done, total, note) + '\n'); }
      }
    },
    done(note) {
      const el = (Date.now() - start) / 1000;
      stream.write(`${tty ? '\r' : ''}${label} done in ${fmtDuration(el)}${note ? ' ' + note : ''}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}
