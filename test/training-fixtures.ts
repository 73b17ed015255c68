/**
 * Tiny labelled data and networks for the training tests: small enough that the cpu backend
 * trains them in well under a second.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec } from '../stages/lib/models/models.js';
import { Rng } from '../stages/lib/random.js';
import type { LabelledData, TrainRecipe } from '../stages/lib/models/training.js';

export const DIM = 10;
export const CLASSES = 3;

/** The cpu backend: deterministic and always available (the tests do not need speed). */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** x ~ N(0, I), y = argmax(x W) for a fixed random W: a task an MLP learns in a few steps. */
export function linearTask(rows: number, stream: string, teacherSeed = 7): LabelledData {
  const teacher = new Rng(teacherSeed, 'teacher').fillNormal(new Float64Array(DIM * CLASSES));
  const rng = new Rng(1, stream);
  const features = rng.fillNormal(new Float32Array(rows * DIM));
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += features[i * DIM + j] * teacher[j * CLASSES + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    labels[i] = best;
  }
  return { features, labels, rows };
}

export const TINY_MLP: NetworkSpec = {
  kind: 'mlp',
  hidden: [16, 16, 16],
  activation: 'relu',
  kernelSize: 3,
  poolAfter: [],
  inputShape: [DIM],
  classes: CLASSES,
};

export const RECIPE: TrainRecipe = {
  optimizer: 'adam',
  learning_rate: 0.01,
  momentum: 0.9,
  batch_size: 32,
  epochs: 3,
  min_steps: 30,
  early_stopping: null,
};

export function sameBytes(a: Float32Array[], b: Float32Array[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (x, i) =>
        Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)) === 0,
    )
  );
}
