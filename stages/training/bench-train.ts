/**
 * Training throughput of the reference networks (docs/benchmarks.md, `defrost bench train`): random
 * data, softmax cross-entropy, Adam, and the same step as the training stages (train-step.ts:
 * the native trainer on wasm-blas, `optimizer.minimize` elsewhere; loss read back every step),
 * not `model.fit`. Loaded only by the bench command's action: it imports TensorFlow.js statically.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../lib/random.js';
import { createStepper } from '../lib/models/train-step.js';

export const benchModels = ['mlp', 'cnn'] as const;
export type BenchModel = (typeof benchModels)[number];

export interface BenchOptions {
  readonly model: BenchModel;
  /** Seconds measured after warm-up. */
  readonly seconds: number;
  /** Seconds of warm-up (kernel set-up, heap growth, OpenBLAS buffers) before measuring. */
  readonly warmup: number;
}

export interface BenchMeasurement {
  readonly model: BenchModel;
  readonly samples_per_s: number;
  /**
   * Samples per second of this process's CPU time (user + system): on a machine shared with
   * other work it varies far less than the wall-clock rate, so runs can be compared.
   */
  readonly samples_per_cpu_s: number;
  readonly steps: number;
  readonly batch_size: number;
  readonly final_loss: number;
}

/** MLP 784-512-512-512-10 (relu), batch 128. */
export function referenceMlp(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [784], units: 512, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 512, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 512, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10 }));
  return model;
}

/** CNN 28x28x1 conv16-pool-conv32-pool-conv64-global-average-pool-dense10 (3x3 same, relu), batch 64. */
export function referenceCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 10 }));
  return model;
}

const settings: Record<BenchModel, { build: () => tf.Sequential; batch: number; shape: number[] }> = {
  mlp: { build: referenceMlp, batch: 128, shape: [784] },
  cnn: { build: referenceCnn, batch: 64, shape: [28, 28, 1] },
};

/** Trains on one fixed random batch for `warmup + seconds` and reports samples per second. */
export async function benchTrain(options: BenchOptions): Promise<BenchMeasurement> {
  const { build, batch, shape } = settings[options.model];
  const rng = new Rng(0, `bench/${options.model}`);
  const size = batch * shape.reduce((a, b) => a * b, 1);
  const features = new Float32Array(size);
  for (let i = 0; i < size; i++) features[i] = rng.uniform() * 2 - 1;
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(rng.uniform() * 10);

  const model = build();
  const stepper = createStepper(model, { kind: 'adam', learningRate: 1e-3, momentum: 0, classes: 10 });
  const step = (): number => stepper.step(features, labels, batch).loss;
  try {
    const warmEnd = performance.now() + options.warmup * 1000;
    let loss = step();
    while (performance.now() < warmEnd) loss = step();
    let steps = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let elapsed = 0;
    do {
      loss = step();
      steps++;
      elapsed = (performance.now() - start) / 1000;
    } while (elapsed < options.seconds);
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return {
      model: options.model,
      samples_per_s: Math.round(((steps * batch) / elapsed) * 10) / 10,
      samples_per_cpu_s: Math.round(((steps * batch) / cpuSeconds) * 10) / 10,
      steps,
      batch_size: batch,
      final_loss: loss,
    };
  } finally {
    stepper.dispose();
    model.dispose();
  }
}
