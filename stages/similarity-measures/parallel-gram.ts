/**
 * The Gram matrix split over worker threads: the same kernel and the same per-entry summation
 * order as `gram` (so identical bytes for any thread count), panels dealt round-robin so every
 * thread gets a similar share of the lower triangle. Worth it above ~50 M multiply-adds; below
 * that (or with one thread) it computes on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { gram, gramPanels, mirrorLower, packRows, type Matrix } from './matrix.js';
import type { GramTask } from './gram-worker.js';
import { createBlockKernel } from './simd-kernel.js';

/** Multiply-adds below which starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 5e7;

/** Threads to use by default: the machine's cores (`DEFROST_THREADS` overrides). */
export function defaultThreads(): number {
  const fromEnv = Number(process.env.DEFROST_THREADS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : availableParallelism();
}

export async function parallelGram(m: Matrix, threads: number): Promise<Float64Array> {
  const n = m.rows;
  const p = m.cols;
  if (threads <= 1 || (n * n * p) / 2 < PARALLEL_THRESHOLD) return gram(m);
  const padded = Math.ceil(n / 4) * 4;
  const packedBuffer = new SharedArrayBuffer(padded * p * 8);
  packRows(m, packedBuffer);
  const gramBuffer = new SharedArrayBuffer(n * n * 8);
  const g = new Float64Array(gramBuffer);
  const helpers = threads - 1;
  const url = new URL('./gram-worker.js', import.meta.url);
  const workers = Array.from({ length: helpers }, () => new Worker(url));
  try {
    const done = workers.map(
      (worker, w) =>
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          const task: GramTask = { packed: packedBuffer, gram: gramBuffer, n, p, first: w + 1, step: threads };
          worker.postMessage(task);
        }),
    );
    // This thread takes panel 0, threads, 2 threads, ...: the largest share of the triangle.
    const packed = new Float64Array(packedBuffer, 0, padded * p);
    gramPanels(packed, n, p, g, 0, threads, createBlockKernel(packed, p));
    await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  mirrorLower(g, n);
  return g;
}
