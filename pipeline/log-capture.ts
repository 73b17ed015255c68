/**
 * Captures everything a running stage writes — `process.stdout`/`process.stderr` writes, and so
 * `console.*` — into its log file in the store, so a failure can be read later with the path
 * the run summary prints. One instance runs at a time per process, so patching the process's
 * streams is safe.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

type Write = typeof process.stdout.write;

export class LogCapture {
  private readonly fd: number;
  private readonly saved: { out: Write; err: Write } | null = null;
  private closed = false;

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
  }

  private write(bytes: Uint8Array): void {
    if (this.closed) return;
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
    if (this.saved) {
      process.stdout.write = this.saved.out;
      process.stderr.write = this.saved.err;
    }
    this.closed = true;
    closeSync(this.fd);
  }
}
