/**
 * Grouping for the Slurm executor (`--group N`): ready instances of one stage wait briefly for
 * the rest of the scheduler's burst and leave in packs of up to N, one job each; a pack's time
 * limit is N times a single instance's. Job names say what a job runs.
 */

/** Packs members of one stage into groups of `size`, waiting `waitMs` for a burst to complete. */
export class StageGroups<M> {
  private readonly buffers = new Map<string, { members: M[]; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly size: number,
    private readonly waitMs: number,
    /** Called with each full (or timed-out) pack. */
    private readonly submit: (stage: string, members: M[]) => void,
  ) {}

  add(stage: string, member: M): void {
    let buffer = this.buffers.get(stage);
    if (!buffer) {
      buffer = { members: [] };
      this.buffers.set(stage, buffer);
    }
    buffer.members.push(member);
    if (buffer.members.length >= this.size) {
      this.flush(stage);
      return;
    }
    // The scheduler hands out ready instances in bursts; wait briefly for the rest of the burst.
    if (buffer.timer) clearTimeout(buffer.timer);
    buffer.timer = setTimeout(() => this.flush(stage), this.waitMs);
  }

  private flush(stage: string): void {
    const buffer = this.buffers.get(stage);
    if (!buffer) return;
    if (buffer.timer) clearTimeout(buffer.timer);
    this.buffers.delete(stage);
    for (let i = 0; i < buffer.members.length; i += this.size) this.submit(stage, buffer.members.slice(i, i + this.size));
  }

  get pending(): number {
    return this.buffers.size;
  }

  /** Every member still waiting, removed (interrupt: they were never submitted). */
  drain(): M[] {
    const out: M[] = [];
    for (const [, buffer] of this.buffers) {
      if (buffer.timer) clearTimeout(buffer.timer);
      out.push(...buffer.members);
    }
    this.buffers.clear();
    return out;
  }
}

/** `defrost:<stage>:<key prefix>`: what users see in `squeue` and what tests look for. */
export function jobNameFor(stage: string, keys: readonly string[]): string {
  const base = `defrost:${stage}:${keys[0].slice(0, 8)}`;
  return keys.length > 1 ? `${base}+${keys.length - 1}` : base;
}

/** Multiplies a Slurm time limit ("[D-]HH:MM:SS", "MM:SS", "MM") by n, as "D-HH:MM:SS". */
export function scaleTime(time: string, n: number): string {
  let days = 0;
  let rest = time;
  const dash = time.indexOf('-');
  if (dash >= 0) {
    days = Number(time.slice(0, dash));
    rest = time.slice(dash + 1);
  }
  const parts = rest.split(':').map(Number);
  let seconds: number;
  if (dash >= 0) {
    // With days: "D-HH", "D-HH:MM", "D-HH:MM:SS".
    const [h = 0, m = 0, s = 0] = parts;
    seconds = ((days * 24 + h) * 60 + m) * 60 + s;
  } else if (parts.length === 3) seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2];
  else if (parts.length === 2) seconds = parts[0] * 60 + parts[1];
  else seconds = parts[0] * 60;
  const total = seconds * n;
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (x: number): string => String(x).padStart(2, '0');
  return `${d}-${pad(h)}:${pad(m)}:${pad(s)}`;
}
