/**
 * What a run shows while it works. On a TTY: a live view redrawn in place — an overall bar with
 * done/total, elapsed time and an estimate of the time left, counts per stage, counts of
 * executed/cached/running/failed, and each running instance with its epoch and loss (from
 * `ctx.progress`), elapsed time and an ETA from the mean duration of the finished instances of
 * its stage. Off a TTY (logs, CI, pipes): one line per instance start and finish, each finish
 * carrying `[k/N]`.
 */
import type { WriteStream } from 'node:tty';
import type { PlannedInstance } from './dag.js';
import type { WorkerInfo } from './executor.js';
import type { InstanceOutcome, SchedulerEvents } from './scheduler.js';
import type { ProgressUpdate } from './stage.js';
import { wrapWords } from './terminal-width.js';

interface Running {
  readonly inst: PlannedInstance;
  readonly started: number;
  update: ProgressUpdate | null;
  waiting: boolean;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressView implements SchedulerEvents {
  private readonly live: boolean;
  private total = 0;
  private cached = 0;
  private executed = 0;
  private failed = 0;
  private skipped = 0;
  private readonly running = new Map<string, Running>();
  private readonly stageDurations = new Map<string, number[]>();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private backendShown = false;
  /** Also say the runtime's details (an optional backend not installed: WorkerInfo.details). */
  private readonly verbose: boolean;
  private readonly startedAt = Date.now();
  /** Instances per stage in the plan, and how many of each are done (executed or cached). */
  private readonly stageTotals = new Map<string, number>();
  private readonly stageDone = new Map<string, number>();

  constructor(
    private readonly out: NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns'>>,
    options: { live?: boolean; verbose?: boolean } = {},
  ) {
    this.live = options.live ?? Boolean(out.isTTY);
    this.verbose = options.verbose ?? false;
  }

  private print(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  notice(text: string): void {
    this.print(text);
  }

  runtime(info: WorkerInfo): void {
    if (this.backendShown) return;
    this.backendShown = true;
    const notes = [...info.notes, ...(this.verbose ? (info.details ?? []) : [])];
    const line = `compute backend: ${info.backend}${notes.length ? ` (${notes.join('; ')})` : ''}`;
    this.print(wrapWords(line, '', '  ').join('\n'));
  }

  /** The whole plan, for per-stage counts (optional: without it the view shows totals only). */
  setPlan(instances: readonly PlannedInstance[]): void {
    this.stageTotals.clear();
    for (const inst of instances) this.stageTotals.set(inst.stage, (this.stageTotals.get(inst.stage) ?? 0) + 1);
  }

  planned(total: number, cached: readonly PlannedInstance[]): void {
    this.total = total;
    this.cached = cached.length;
    for (const inst of cached) this.stageDone.set(inst.stage, (this.stageDone.get(inst.stage) ?? 0) + 1);
    this.print(`${total} instances: ${cached.length} cached, ${total - cached.length} to run`);
    if (this.live && !this.timer) {
      this.timer = setInterval(() => this.redraw(), 250);
      this.timer.unref();
    }
  }

  start(inst: PlannedInstance): void {
    this.running.set(inst.id, { inst, started: Date.now(), update: null, waiting: false });
    if (!this.live) this.print(`start  ${inst.id} ${inst.key}`);
    else this.redraw();
  }

  waiting(inst: PlannedInstance): void {
    const r = this.running.get(inst.id);
    if (r) r.waiting = true;
    if (!this.live) this.print(`wait   ${inst.id} ${inst.key} (another run is computing it)`);
  }

  progress(inst: PlannedInstance, update: ProgressUpdate): void {
    const r = this.running.get(inst.id);
    if (r) r.update = update;
  }

  finish(inst: PlannedInstance, outcome: InstanceOutcome): void {
    this.running.delete(inst.id);
    if (outcome.status === 'executed' || outcome.status === 'cached')
      this.stageDone.set(inst.stage, (this.stageDone.get(inst.stage) ?? 0) + 1);
    let line: string;
    switch (outcome.status) {
      case 'executed': {
        this.executed++;
        const list = this.stageDurations.get(inst.stage) ?? [];
        list.push(outcome.seconds);
        this.stageDurations.set(inst.stage, list);
        // The key is on the start line: the done line stays within 100 columns (terminal-width.ts).
        line = `done   ${inst.id} (${formatSeconds(outcome.seconds)})`;
        break;
      }
      case 'cached':
        this.cached++;
        line = `cached ${inst.id} ${inst.key} (computed by another run)`;
        break;
      case 'failed':
        this.failed++;
        line = `FAILED ${inst.id} ${inst.key}: ${outcome.reason}${outcome.logPath ? ` (log: ${outcome.logPath})` : ''}`;
        break;
      case 'skipped':
        this.skipped++;
        line = `skip   ${inst.id}: upstream ${outcome.upstream} failed`;
        break;
      case 'interrupted':
        line = `stop   ${inst.id} (interrupted)`;
        break;
    }
    // Live view: only failures scroll above it; everything else is in the counters. Log lines
    // carry [k/N] (instances finished so far, of the plan).
    const finished = this.executed + this.cached + this.failed + this.skipped;
    if (!this.live) this.print(`[${finished}/${this.total}] ${line}`);
    else if (outcome.status === 'failed') this.print(line);
    else this.redraw();
  }

  /** Stops redrawing and leaves the last view on screen. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private eta(r: Running): string {
    const list = this.stageDurations.get(r.inst.stage);
    if (!list || list.length === 0) return '';
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    const left = mean - (Date.now() - r.started) / 1000;
    return ` eta ${formatSeconds(Math.max(0, left))}`;
  }

  /** `[#####-----] 42% 57/135  elapsed 12s  left ~20s`: left is extrapolated from this run's pace. */
  overall(width: number): string {
    const done = this.executed + this.cached + this.failed + this.skipped;
    const fraction = this.total === 0 ? 1 : done / this.total;
    const barWidth = Math.max(10, Math.min(40, width - 50));
    const filled = Math.round(fraction * barWidth);
    const elapsed = (Date.now() - this.startedAt) / 1000;
    // Cached instances cost nothing: pace = seconds per executed instance so far.
    const toRun = this.total - done;
    const left = this.executed > 0 ? (elapsed / this.executed) * toRun : Number.NaN;
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${Math.floor(fraction * 100)}% ${done}/${this.total}` +
      `  elapsed ${formatSeconds(elapsed)}  left ${toRun === 0 ? '0s' : Number.isFinite(left) ? `~${formatSeconds(left)}` : '?'}`
    );
  }

  /** `generate-data 3/3  train-scratch 12/18  transfer 40/108 ...` in plan order. */
  stageCounts(): string {
    return [...this.stageTotals.entries()].map(([stage, n]) => `${stage} ${this.stageDone.get(stage) ?? 0}/${n}`).join('  ');
  }

  private lines(): string[] {
    const head = `${this.overall((this.out.columns || 120) - 1)}\n${this.stageTotals.size > 0 ? `${this.stageCounts()}\n` : ''}executed ${this.executed}, cached ${this.cached}, running ${this.running.size}, failed ${this.failed}${this.skipped ? `, skipped ${this.skipped}` : ''}`;
    const width = Math.max(60, (this.out.columns || 120) - 1);
    const rows = [...this.running.values()].slice(0, 12).map((r) => {
      const u = r.update;
      const parts: string[] = [];
      if (r.waiting) parts.push('waiting for another run');
      if (u?.epoch !== undefined) parts.push(`epoch ${u.epoch}${u.epochs ? `/${u.epochs}` : ''}`);
      if (u?.step !== undefined) parts.push(`step ${u.step}${u.steps ? `/${u.steps}` : ''}`);
      if (u?.loss !== undefined) parts.push(`loss ${u.loss.toFixed(4)}`);
      if (u?.message) parts.push(u.message);
      const elapsed = formatSeconds((Date.now() - r.started) / 1000);
      // Progress first: on a narrow terminal the cut falls on the (long) instance id.
      return `  ${elapsed}${this.eta(r)} ${parts.join(' ')}  ${r.inst.id}`.replace(/ {3,}/g, '  ').slice(0, width);
    });
    if (this.running.size > 12) rows.push(`  ... and ${this.running.size - 12} more`);
    return [...head.split('\n'), ...rows];
  }

  private clear(): void {
    if (!this.live || this.drawnLines === 0) return;
    this.out.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (!this.live || this.total === 0 || !this.timer) return;
    const lines = this.lines();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  private redraw(): void {
    if (!this.live) return;
    this.clear();
    this.draw();
  }
}
