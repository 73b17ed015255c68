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

/**
 * Helper threads, started on first use and kept for the life of the process: a similarity
 * instance computes dozens of Gram matrices, and a worker thread's start (a fresh isolate that
 * loads its modules) cost ~30 ms of CPU and ~6,000 page faults each time (docs/performance.md,
 * "System time"). Unreferenced, so they never keep a process alive.
 */
const pool: Worker[] = [];

function helper(index: number): Worker {
  while (pool.length <= index) {
    const worker = new Worker(new URL('./gram-worker.js', import.meta.url));
    worker.unref();
    // A thread that failed or exited is dropped from the pool (the task it had is rejected in
    // runOn); the next Gram matrix starts a fresh one.
    const drop = (): void => {
      const at = pool.indexOf(worker);
      if (at >= 0) pool.splice(at, 1);
    };
    worker.on('error', drop);
    worker.once('exit', drop);
    pool.push(worker);
  }
  return pool[index];
}

function runOn(worker: Worker, task: GramTask): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (): void => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve();
    };
    const onError = (error: Error): void => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      reject(error);
    };
    const onExit = (code: number): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(new Error(`a Gram-matrix worker thread exited (code ${code})`));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage(task);
  });
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
  const done = Array.from({ length: threads - 1 }, (_, w) =>
    runOn(helper(w), { packed: packedBuffer, gram: gramBuffer, n, p, first: w + 1, step: threads }),
  );
  // Settled before this thread's share, so a failed helper cannot leave an unhandled rejection.
  const settled = Promise.allSettled(done);
  // This thread takes panel 0, threads, 2 threads, ...: the largest share of the triangle.
  const packed = new Float64Array(packedBuffer, 0, padded * p);
  gramPanels(packed, n, p, g, 0, threads, createBlockKernel(packed, p));
  for (const result of await settled) if (result.status === 'rejected') throw result.reason;
  mirrorLower(g, n);
  return g;
}
