/**
 * The libtorch training step of imported graphs (stages/lib/kernels/graph-trainer.ts,
 * docs/backends.md#imported-networks): on the ResNet-8-like and MobileNet-like fixtures its
 * forward pass equals TensorFlow.js's, its weights and BatchNorm statistics after several steps
 * equal those of TensorFlow.js's step to float tolerance (same batches, same Adam), frozen blocks
 * stay bit-identical, it is deterministic, and a layer it does not implement is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraphTrainer } from '../stages/lib/kernels/graph-trainer.js';
import { loadTorchAddon, type TorchAddon } from '../stages/lib/kernels/torch-addon.js';
import { selectBackend } from '../stages/lib/models/backend.js';
import { blockCount, blockWeightValues } from '../stages/lib/models/models.js';
import { canonicalSourceNetwork, targetNetworkLike } from '../stages/lib/models/source-network/canonical.js';
import { deriveBlocks, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { createStepper, evaluateNatively, type StepperOptions } from '../stages/lib/models/train-step.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { Rng } from '../stages/lib/random.js';
import { FIXTURES, maxAbsDiff } from './onnx-fixtures.js';

/** libtorch-dev is installed here: then the addon must be built and load (make native). */
const libtorchInstalled = existsSync('/usr/include/ATen/ATen.h');

function torchAddon(): TorchAddon {
  const loaded = loadTorchAddon();
  if (!loaded.ok) throw new Error(loaded.reason);
  return loaded.addon;
}

async function sourceOf(file: string): Promise<tf.LayersModel> {
  const path = join(FIXTURES, file);
  const model = readSourceModel(path);
  return canonicalSourceNetwork(model, deriveBlocks(path, model.topology, null));
}

function batches(count: number, rows: number, dim: number, classes: number): { x: Float32Array; y: Int32Array }[] {
  const rng = new Rng(3, 'test/torch-step');
  return Array.from({ length: count }, () => {
    const y = Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * classes));
    const x = new Float32Array(rows * dim).map((_, k) => rng.normal() + (k % classes === y[Math.floor(k / dim)] ? 0.5 : 0));
    return { x, y };
  });
}

const adam: StepperOptions = { kind: 'adam', learningRate: 1e-3, momentum: 0, classes: 3 };
const momentum: StepperOptions = { kind: 'momentum', learningRate: 1e-3, momentum: 0.9, classes: 3 };

/** Every weight and BatchNorm statistic of `model`, layer by layer. */
function allWeights(model: tf.LayersModel): Float32Array[] {
  return model.layers.flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array));
}

const bytes = (w: Float32Array): Buffer => Buffer.from(w.buffer, w.byteOffset, w.byteLength);

/** Largest difference relative to the weight's own scale (max |w|, at least 1e-3). */
function relativeGap(a: Float32Array, b: Float32Array): number {
  const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
  return maxAbsDiff(a, b) / scale;
}

const opts = { skip: libtorchInstalled ? false : 'libtorch-dev is not installed (the libtorch step is not built)' };

test(
  "the libtorch forward pass equals TensorFlow.js's on the fixtures (inference mode), frozen BatchNorms folded or not",
  opts,
  async () => {
    await selectBackend('wasm-blas', 1);
    const addon = torchAddon();
    for (const file of ['resnet8-opset13.onnx', 'mobile-opset17.onnx', 'mixed-opset13.onnx']) {
      const source = await sourceOf(file);
      // All blocks frozen: each frozen convolution's BatchNorm is folded into it.
      const frozen = await targetNetworkLike(source, 3, 5, 'target/init');
      prepareTransfer(frozen, source, 'defrost', blockCount(source));
      for (const model of [source, frozen]) {
        const trainer = GraphTrainer.translate(addon, model, { kind: 'sgd', learningRate: 0, momentum: 0 });
        assert.ok(typeof trainer !== 'string', `${file}: ${String(trainer)}`);
        const [{ x }] = batches(1, 16, trainer.inputSize, 3);
        const shape = (model.inputs[0].shape as number[]).slice(1);
        const expected = tf.tidy(() => (model.predict(tf.tensor(x, [16, ...shape])) as tf.Tensor).dataSync() as Float32Array);
        const gap = maxAbsDiff(trainer.forward(x, 16), expected);
        assert.ok(gap < 1e-4, `${file}${model === frozen ? ', frozen' : ''}: logits differ by ${gap}`);
      }
      source.dispose();
      frozen.dispose();
    }
  },
);

test("after 6 steps the libtorch step's weights equal TensorFlow.js's step, frozen blocks bit-identical", opts, async () => {
  await selectBackend('wasm-blas', 1);
  for (const [file, depth] of [
    ['resnet8-opset13.onnx', 0],
    ['resnet8-opset13.onnx', 2],
    ['mobile-opset17.onnx', 1],
  ] as const) {
    const source = await sourceOf(file);
    const trained = async (native: boolean, options: StepperOptions): Promise<{ model: tf.LayersModel; losses: number[] }> => {
      const model = await targetNetworkLike(source, 3, 5, 'target/init');
      prepareTransfer(model, source, 'defrost', depth);
      const stepper = createStepper(model, { ...options, native });
      assert.equal(stepper.kind, native ? 'libtorch' : 'tfjs', `${file}: the step that runs`);
      const dim = (model.inputs[0].shape as number[]).slice(1).reduce((a, b) => a * b, 1);
      const losses = batches(6, 16, dim, 3).map(({ x, y }) => stepper.step(x, y, 16).loss);
      stepper.sync();
      stepper.dispose();
      return { model, losses };
    };
    // Momentum SGD: the update is linear in the gradient, so the weights agree to float rounding.
    const ours = await trained(true, momentum);
    const reference = await trained(false, momentum);
    const a = allWeights(ours.model);
    const b = allWeights(reference.model);
    assert.equal(a.length, b.length);
    const worst = Math.max(...a.map((w, i) => relativeGap(w, b[i])));
    assert.ok(worst < 1e-4, `${file} at depth ${depth}: weights differ by ${worst} of their scale`);
    const initial = await targetNetworkLike(source, 3, 5, 'target/init');
    assert.ok(
      maxAbsDiff(blockWeightValues(ours.model, 'readout')[0], blockWeightValues(initial, 'readout')[0]) > 1e-4,
      `${file}: the readout moved`,
    );
    for (let block = 1; block <= blockCount(source); block++) {
      const original = blockWeightValues(source, block);
      const same = blockWeightValues(ours.model, block).every((w, i) => bytes(w).equals(bytes(original[i])));
      assert.equal(
        same,
        block <= depth,
        `${file} depth ${depth}, block ${block}: ${block <= depth ? 'frozen, unchanged' : 'trainable, moved'}`,
      );
    }
    // Adam divides by the gradient's own size, so a gradient that is rounding noise can step either
    // way (by the learning rate); the losses, which every weight feeds, still agree closely.
    const adamOurs = await trained(true, adam);
    const adamReference = await trained(false, adam);
    assert.ok(
      maxAbsDiff(adamOurs.losses, adamReference.losses) < 1e-3,
      `${file}: Adam losses ${adamOurs.losses} vs ${adamReference.losses}`,
    );
    for (const model of [ours.model, reference.model, adamOurs.model, adamReference.model, initial, source]) model.dispose();
  }
});

test('the libtorch step is deterministic: the same batches give the same bytes', opts, async () => {
  await selectBackend('wasm-blas', 1);
  const source = await sourceOf('resnet8-opset13.onnx');
  const run = async (): Promise<Buffer> => {
    const model = await targetNetworkLike(source, 3, 5, 'target/init');
    prepareTransfer(model, source, 'defrost', 1);
    const stepper = createStepper(model, adam);
    for (const { x, y } of batches(3, 16, 32 * 32 * 3, 3)) stepper.step(x, y, 16);
    stepper.sync();
    const all = Buffer.concat(allWeights(model).map(bytes));
    model.dispose();
    return all;
  };
  assert.ok((await run()).equals(await run()));
  source.dispose();
});

test('a layer the libtorch step does not implement is named, and nothing is built', opts, async () => {
  await selectBackend('wasm-blas', 1);
  const input = tf.input({ shape: [8, 8, 2] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  const cropped = tf.layers.cropping2D({ cropping: 1 }).apply(conv) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3 }).apply(tf.layers.flatten().apply(cropped)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const reason = GraphTrainer.translate(torchAddon(), model, adam);
  assert.equal(typeof reason, 'string');
  assert.match(String(reason), /Cropping2D/);
  model.dispose();
});

test("without the libtorch addon, graphs train on TensorFlow.js's step and the process says why, once", async () => {
  const dist = join(import.meta.dirname, '..');
  const script = `
    const { selectBackend } = await import('${dist}/stages/lib/models/backend.js');
    const { canonicalSourceNetwork } = await import('${dist}/stages/lib/models/source-network/canonical.js');
    const { deriveBlocks, readSourceModel } = await import('${dist}/stages/lib/models/source-network/topology.js');
    const { createStepper } = await import('${dist}/stages/lib/models/train-step.js');
    await selectBackend('wasm-blas', 1);
    const file = '${join(FIXTURES, 'resnet8-opset13.onnx')}';
    const source = readSourceModel(file);
    const model = await canonicalSourceNetwork(source, deriveBlocks(file, source.topology, null));
    const kinds = [0, 1].map(() => createStepper(model, { kind: 'adam', learningRate: 1e-3, momentum: 0, classes: 10 }).kind);
    console.log(kinds.join(','));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, DEFROST_TORCH_ADDON: '/nonexistent/defrost_torch.node' },
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'tfjs,tfjs');
  const said = result.stderr.split('\n').filter((line) => line.includes('the libtorch step is not built'));
  assert.equal(said.length, 1, result.stderr);
  assert.match(said[0], /using the TensorFlow\.js step/);
});

test("evaluation of a graph runs on libtorch's forward pass and equals TensorFlow.js's", opts, async () => {
  await selectBackend('wasm-blas', 1);
  const model = await sourceOf('mobile-opset17.onnx');
  const rows = 40;
  const classes = (model.outputs[0].shape as number[])[1];
  const [{ x, y }] = batches(1, rows, 32 * 32 * 3, classes);
  const own = evaluateNatively(model, x, y, rows);
  assert.ok(own !== null, 'the libtorch forward pass evaluates the graph');
  const logits = tf.tidy(() => (model.predict(tf.tensor(x, [rows, 32, 32, 3])) as tf.Tensor).arraySync() as number[][]);
  let loss = 0;
  let hits = 0;
  logits.forEach((z, r) => {
    const top = Math.max(...z);
    loss += Math.log(z.reduce((sum, v) => sum + Math.exp(v - top), 0)) - (z[y[r]] - top);
    if (z.indexOf(top) === y[r]) hits++;
  });
  assert.ok(Math.abs(own.loss - loss / rows) < 1e-4, `loss ${own.loss} vs ${loss / rows}`);
  assert.equal(own.accuracy, hits / rows);
  model.dispose();
});
