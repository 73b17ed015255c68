/**
 * A worker's memo of immutable inputs (docs/performance.md, "Per-instance overhead"): what a
 * stage derives from an input's bytes alone (a parsed table, a loaded network), kept across the
 * instances one process runs in turn, so that the transfers of one cell do not each read and
 * parse the same tables and build the same source network again.
 *
 * Keyed by content, never by path: a value is filed under its slot and the digest of the bytes
 * it was made from (`InputArtifact.digest`, the sha256 the input's manifest records and `exec`
 * verified before the instance ran). A value is therefore served only for those very bytes, and
 * an instance's result stays a pure function of its key, whichever instances ran before it in the
 * same process.
 *
 * Bounded: once an instance ends, the engine trims the memo to its limit
 * (`DEFROST_WORKER_MEMO_MB`, default 256; 0 keeps nothing), dropping the least recently used
 * values and disposing those that hold more than memory (a network's tensors). It never trims
 * during an instance, so what an instance got stays valid until it ends. Values are shared:
 * a stage must never change one (copy what it changes).
 */

/** A kind of memoised value: its name (part of the key), its size and how to release it. */
export interface MemoSlot<T> {
  readonly name: string;
  /** Bytes the value holds, counted against the limit. */
  readonly bytes: (value: T) => number;
  /** Releases what the garbage collector does not (e.g. tensors); called when the value is dropped. */
  readonly dispose?: (value: T) => void;
}

/** What a stage sees of the memo (`StageContext.memo`). */
export interface Memo {
  /**
   * The value of `slot` made from the bytes whose digest is `digest`: from the memo when an
   * earlier instance of this process made it, else `make()` (kept unless it throws).
   */
  get<T>(slot: MemoSlot<T>, digest: string, make: () => T | Promise<T>): Promise<T>;
}

interface Entry {
  readonly slot: MemoSlot<never>;
  readonly value: Promise<unknown>;
  bytes: number;
}

/** Default limit of a process's memo, in MB (`DEFROST_WORKER_MEMO_MB`). */
export const DEFAULT_MEMO_MB = 256;

export class WorkerMemo implements Memo {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private hitCount = 0;
  private missCount = 0;

  constructor(readonly limitBytes: number) {}

  async get<T>(slot: MemoSlot<T>, digest: string, make: () => T | Promise<T>): Promise<T> {
    const key = `${slot.name}\u0000${digest}`;
    const found = this.entries.get(key);
    if (found !== undefined && found.slot === slot) {
      this.hitCount++;
      this.entries.delete(key);
      this.entries.set(key, found);
      // The slot is the same object that filed it, so the value has its type.
      return found.value as Promise<T>;
    }
    this.missCount++;
    if (this.limitBytes <= 0) return make();
    const value = Promise.resolve().then(make);
    const entry: Entry = { slot: slot as MemoSlot<never>, value, bytes: 0 };
    this.entries.set(key, entry);
    try {
      entry.bytes = slot.bytes(await value);
    } catch (error) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    }
    return value;
  }

  /** Drops the least recently used values until the rest fit the limit. Between instances only. */
  trim(): void {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.bytes;
    for (const [key, entry] of this.entries) {
      if (total <= this.limitBytes) break;
      this.entries.delete(key);
      total -= entry.bytes;
      release(entry);
    }
  }

  /** Drops everything. */
  clear(): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    all.forEach(release);
  }

  /** Values held, bytes counted, hits and misses since the process started (for tests and logs). */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.bytes;
    return { entries: this.entries.size, bytes, hits: this.hitCount, misses: this.missCount };
  }
}

function release(entry: Entry): void {
  const dispose = entry.slot.dispose;
  if (dispose !== undefined)
    void entry.value.then(
      (value) => dispose(value as never),
      () => undefined,
    );
}

/** A memo that keeps nothing: every `get` makes its value (a stage run outside a worker, tests). */
export const NO_MEMO: Memo = { get: async (_slot, _digest, make) => make() };

let processMemo: WorkerMemo | null = null;

/** This process's memo, with the limit from `DEFROST_WORKER_MEMO_MB`. */
export function workerMemo(): WorkerMemo {
  if (processMemo === null) {
    const mb = Number(process.env.DEFROST_WORKER_MEMO_MB ?? DEFAULT_MEMO_MB);
    processMemo = new WorkerMemo(Number.isFinite(mb) && mb > 0 ? mb * 1e6 : 0);
  }
  return processMemo;
}
