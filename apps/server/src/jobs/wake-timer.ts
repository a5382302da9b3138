/**
 * Wakes a queue's worker when a job this process scheduled for later (`runAt`) falls due, rather than
 * at the next poll: a 1.5 s typing block lasts 1.5 s, not up to a poll interval more. Jobs enqueued
 * elsewhere (another process, before a restart) are still found by the poll.
 */
export class WakeTimer {
  readonly #wake: () => void;
  readonly #max: number;
  /** Due times, ascending, without duplicates. */
  #times: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  /** `max` bounds memory: beyond it the latest times are left to the poll. */
  constructor(wake: () => void, max = 10_000) {
    this.#wake = wake;
    this.#max = max;
  }

  schedule(at: number): void {
    if (at <= Date.now()) return;
    const times = this.#times;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    if (times[lo] === at) return;
    if (times.length >= this.#max) {
      if (lo >= times.length) return;
      times.pop();
    }
    times.splice(lo, 0, at);
    this.#arm();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    this.#times = [];
  }

  #arm(): void {
    const next = this.#times[0];
    if (next === undefined || (this.#timer && next >= this.#armedFor)) return;
    clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let due = 0;
    while (due < this.#times.length && this.#times[due]! <= now) due++;
    this.#times.splice(0, due);
    if (due > 0) this.#wake();
    this.#arm();
  }
}
