/**
 * Forwards an instance's progress updates at most once per `intervalMs`, always ending with the
 * latest one. A training stage reports every epoch, and an epoch of a small-n run is one step:
 * the default study's 20-sample runs report ~2,000 epochs each in a fraction of a second. Sent
 * one by one over the worker's IPC channel they cost a write in the worker and a wake-up, a read
 * and a JSON parse in the scheduler each (docs/performance.md, "System time"), while the progress
 * view only draws the latest update four times a second (`progress.ts`).
 */
import type { ProgressUpdate } from './stage.js';

/** The progress view redraws every 250 ms; updates in between would never be seen. */
export const PROGRESS_INTERVAL_MS = 200;

export class ProgressThrottle {
  private lastSent = -Infinity;
  private pending: ProgressUpdate | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly forward: (update: ProgressUpdate) => void,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sends `update` now if the last one went out at least `intervalMs` ago; else holds it (latest wins). */
  update(update: ProgressUpdate): void {
    this.pending = update;
    const wait = this.lastSent + this.intervalMs - this.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    // A timer fires only when the stage yields to the event loop; a stage computing synchronously
    // gets its held update out with its next `update` call past the interval instead.
    this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends the held update, if any. */
  flush(): void {
    this.clearTimer();
    const update = this.pending;
    this.pending = null;
    if (update !== null) this.send(update);
  }

  /** Drops the held update (the instance finished: its result supersedes it). */
  cancel(): void {
    this.clearTimer();
    this.pending = null;
  }

  private send(update: ProgressUpdate): void {
    this.lastSent = this.now();
    this.forward(update);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
