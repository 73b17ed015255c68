/**
 * Worker thread of `parallelGram`: computes its share of Gram panels into shared memory.
 * Receives { packed, gram, n, p, first, step } and answers 'done'.
 */
import { parentPort } from 'node:worker_threads';
import { gramPanels } from './matrix.js';

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
  gramPanels(new Float64Array(task.packed, 0, padded * task.p), task.n, task.p, new Float64Array(task.gram), task.first, task.step);
  parentPort?.postMessage('done');
});
