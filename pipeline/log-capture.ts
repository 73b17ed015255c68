/**
 * Captures everything a running stage writes — `process.stdout`/`process.stderr` writes, and so
 * `console.*` — into its log file in the store, so a failure can be read later with the path
 * the run summary prints. One instance runs at a time per process, so patching the process's
 * streams is safe.
 *
 * Lines are written in batches: a write goes to the file at once when the last one is
 * `FLUSH_MS` old (so a quiet stage's lines appear as they come), else with the next batch, at
 * the latest at 64 KiB, when the log closes, or when the process exits. A training run of 20
 * samples logs ~2,000 epochs in a fraction of a second, and a system call per line was ~7% of a
 * small instance's time outside training (docs/performance.md, "Per-instance overhead"). A
 * process killed outright (`kill -9`, a native crash) loses at most its last `FLUSH_MS` of lines.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

type Write = typeof process.stdout.write;

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 << 10;

/** Open captures, flushed if the process exits while one is open. */
const open = new Set<LogCapture>();
process.on('exit', () => {
  for (const capture of open) capture.flush();
});

export class LogCapture {
  private readonly fd: number;
  private readonly saved: { out: Write; err: Write } | null = null;
  private closed = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lastFlush = -Infinity;

  /** `echo`: also pass the output on to the real stderr (for `defrost exec` run by hand or by make). */
  constructor(
    readonly path: string,
    echo: boolean,
  ) {
    this.fd = openSync(path, 'w');
    const saved = { out: process.stdout.write, err: process.stderr.write };
    this.saved = saved;
    const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const bytes =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array);
      this.write(bytes);
      if (echo) saved.err.call(process.stderr, bytes);
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      return true;
    };
    process.stdout.write = capture as Write;
    process.stderr.write = capture as Write;
    open.add(this);
  }

  private write(bytes: Buffer): void {
    if (this.closed) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES || performance.now() - this.lastFlush >= FLUSH_MS) this.flush();
  }

  /** Writes what is pending to the file. */
  flush(): void {
    if (this.pendingBytes === 0 || this.closed) return;
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.lastFlush = performance.now();
    try {
      writeSync(this.fd, bytes);
    } catch {
      // A full disk must not turn into a second, confusing failure.
    }
  }

  line(text: string): void {
    this.write(Buffer.from(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** Restores the streams and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    open.delete(this);
    if (this.saved) {
      process.stdout.write = this.saved.out;
      process.stderr.write = this.saved.err;
    }
    this.closed = true;
    closeSync(this.fd);
  }
}
