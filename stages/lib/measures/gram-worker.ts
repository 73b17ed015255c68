/**
 * Worker thread of `parallelGram`: computes its share of Gram panels into shared memory.
 * Receives { packed, gram, n, p, first, step } and answers 'done'.
 */
import { parentPort } from 'node:worker_threads';
import { gramPanels } from './matrix.js';
import { createBlockKernel } from './simd-kernel.js';

export interface GramTask {
  readonly packed: SharedArrayBuffer;
  readonly gram: SharedArrayBuffer;
  readonly n: number;
  readonly p: number;
  readonly first: number;
  readonly step: number;
}

parentPort?.on('message', (task: GramTask) => {
  const padded = Math.ceil(task.n / 4) * 4;
  const packed = new Float64Array(task.packed, 0, padded * task.p);
  const kernel = createBlockKernel(packed, task.p);
  gramPanels(packed, task.n, task.p, new Float64Array(task.gram), task.first, task.step, kernel);
  parentPort?.postMessage('done');
});
