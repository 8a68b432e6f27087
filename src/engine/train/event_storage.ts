// detectron2's EventStorage, reduced to what the writers need: the scalars each iteration puts
// (losses, lr, times), kept since the last write so that every metrics line is the mean over its
// period, and evaluation results put at the iteration they were computed.
export class EventStorage {
  iter = 0;
  #window = new Map<string, { sum: number; n: number; last: number }>();
  #evals: Record<string, number> | null = null;
  #recent: number[] = [];

  put(name: string, value: number): void {
    const w = this.#window.get(name);
    if (w) { w.sum += value; w.n += 1; w.last = value; } else this.#window.set(name, { sum: value, n: 1, last: value });
  }

  /** Wall seconds of one iteration, also kept for the ETA (the last 20). */
  putIterTime(seconds: number): void {
    this.put('time', seconds);
    this.#recent.push(seconds);
    if (this.#recent.length > 20) this.#recent.shift();
  }

  putEval(results: Record<string, number>): void {
    this.#evals = { ...(this.#evals ?? {}), ...results };
  }

  /** Seconds per iteration over the recent ones (median, robust to an evaluation pause). */
  recentIterTime(): number | null {
    if (this.#recent.length === 0) return null;
    const s = [...this.#recent].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  }

  /** Means since the last take (lr: the latest value), and the evaluation results; then resets. */
  take(): { scalars: Record<string, number>; evals: Record<string, number> | null } {
    const scalars: Record<string, number> = {};
    for (const [k, w] of this.#window) scalars[k] = k === 'lr' ? w.last : w.sum / w.n;
    const evals = this.#evals;
    this.#window.clear();
    this.#evals = null;
    return { scalars, evals };
  }

  get hasPending(): boolean {
    return this.#window.size > 0 || this.#evals !== null;
  }
}
