/**
 * ONNX import (docs/your-data.md#onnx) against PyTorch and onnxruntime: every fixture's forward
 * pass in defrost equals PyTorch's logits on 64 inputs; a network written back with changed
 * weights and a new readout gives onnxruntime the logits defrost computes; weights survive the
 * NCHW <-> NHWC copies bit for bit; the blocks of a residual and of a chain network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import '../stages/lib/models/layers/register.js';
import { exportOnnx } from '../stages/lib/models/onnx/export.js';
import { importOnnx, type ImportedNetwork } from '../stages/lib/models/onnx/import.js';
import { layersArtifacts } from '../stages/lib/models/onnx/layers-artifacts.js';
import { decodeOnnx } from '../stages/lib/models/onnx/proto.js';
import { toLayersOrder, toOnnxOrder, type WeightLayout } from '../stages/lib/models/onnx/weight-layout.js';
import { graphBlocks } from '../stages/lib/models/source-network/graph-blocks.js';
import { selectBackend } from '../stages/lib/models/backend.js';
import { Rng } from '../stages/lib/random.js';
import { fixtureBytes, fixtureData, maxAbsDiff, ONNX_FILES, toNhwc } from './onnx-fixtures.js';

async function loadImported(network: ImportedNetwork): Promise<tf.LayersModel> {
  const a = layersArtifacts(network);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }));
}

function logitsOf(model: tf.LayersModel, nchw: { shape: number[]; values: Float32Array }): Float32Array {
  const [n, c, h, w] = nchw.shape;
  return tf.tidy(() => (model.predict(tf.tensor(toNhwc(nchw.values, nchw.shape), [n, h, w, c])) as tf.Tensor).dataSync() as Float32Array);
}

test('the forward pass of every imported fixture equals PyTorch logits (max abs diff < 1e-4)', async (t) => {
  await selectBackend('wasm-blas', 1);
  for (const { file, network } of ONNX_FILES) {
    const imported = importOnnx(decodeOnnx(fixtureBytes(file)));
    const model = await loadImported(imported);
    const { inputs, logits } = fixtureData(network);
    const diff = maxAbsDiff(logitsOf(model, inputs), logits.values);
    t.diagnostic(`${file}: max abs diff ${diff.toExponential(2)} over ${logits.values.length} logits`);
    assert.ok(diff < 1e-4, `${file}: max abs diff ${diff}`);
    model.dispose();
  }
});

test('written back as ONNX with new weights and a 3-class readout, onnxruntime gives the logits defrost computes', async (t) => {
  await selectBackend('wasm-blas', 1);
  for (const file of ['resnet8-opset13.onnx', 'resnet8-folded-opset13.onnx', 'mobile-opset17.onnx', 'mixed-opset13.onnx']) {
    const network = ONNX_FILES.find((f) => f.file === file)?.network as string;
    const bytes = fixtureBytes(file);
    const imported = importOnnx(decodeOnnx(bytes));
    const source = await loadImported(imported);
    const topology = JSON.parse(JSON.stringify(source.toJSON(null, false))) as {
      config: { layers: { name: string; config: { units?: number } }[] };
    };
    for (const layer of topology.config.layers) if (layer.name === imported.output) layer.config.units = 3;
    const tuned = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
    // Every weight moved a little (each by its own amount: shared BatchNorm biases now differ).
    const rng = new Rng(5, 'onnx-export-test');
    for (const layer of tuned.layers) {
      const weights = layer.getWeights();
      if (weights.length === 0) continue;
      const own = layer.name === imported.output ? null : source.getLayer(layer.name).getWeights();
      layer.setWeights(
        weights.map((w, k) => {
          const base = own ? (own[k].dataSync() as Float32Array) : new Float32Array(w.size);
          return tf.tensor(
            base.map((v) => v + 0.02 * (rng.uniform() - 0.5) + (own ? 0 : 0.3 * (rng.uniform() - 0.5))),
            w.shape,
          );
        }),
      );
    }
    const values = new Map(tuned.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
    const written = exportOnnx(bytes, imported, (layer, weight) => values.get(`${layer}/${weight}`), {
      readout: imported.output,
      classes: 3,
    });
    const { inputs } = fixtureData(network);
    const session = await ort.InferenceSession.create(written);
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', inputs.values, inputs.shape) });
    const output = result[session.outputNames[0]];
    assert.deepEqual(output.dims, [inputs.shape[0], 3]);
    const diff = maxAbsDiff(output.data as Float32Array, logitsOf(tuned, inputs));
    t.diagnostic(`${file}: onnxruntime vs defrost max abs diff ${diff.toExponential(2)}`);
    assert.ok(diff < 1e-4, `${file}: max abs diff ${diff}`);
    // Unchanged weights and classes: the original initializers' bytes come back.
    const same = exportOnnx(
      bytes,
      imported,
      (layer, weight) => imported.weights.find((w) => w.layer === layer && w.weight === weight)?.values,
      {
        readout: imported.output,
        classes: (imported.weights.find((w) => w.layer === imported.output && w.weight === 'kernel')?.shape ?? [0, 0])[1],
      },
    );
    const again = importOnnx(decodeOnnx(same));
    imported.weights.forEach((w, k) => assert.deepEqual(again.weights[k].values, w.values, `${file} ${w.layer}/${w.weight}`));
    source.dispose();
    tuned.dispose();
  }
});

test('weights survive the copies between ONNX and TensorFlow.js order bit for bit', () => {
  const rng = new Rng(3, 'layouts');
  const cases: [number[], WeightLayout][] = [
    [[8, 3, 3, 5], { kind: 'oihw' }],
    [[12, 4, 2, 2], { kind: 'oihw' }],
    [[24, 10], { kind: 'dense', transposed: false, flattened: [6, 2, 2] }],
    [[10, 24], { kind: 'dense', transposed: true, flattened: [6, 2, 2] }],
    [[10, 7], { kind: 'dense', transposed: true, flattened: null }],
    [[24], { kind: 'vector', flattened: [6, 2, 2] }],
  ];
  for (const [dims, layout] of cases) {
    const values = rng.fillNormal(new Float32Array(dims.reduce((a, b) => a * b, 1)));
    const there = toLayersOrder(values, dims, layout);
    assert.notDeepEqual(there, values);
    assert.deepEqual(toOnnxOrder(there, dims, layout), values, JSON.stringify(layout));
  }
});

test('blocks of graphs: residual units of the ResNet, every weighted layer of the chain; named blocks must start at cuts', () => {
  const resnet = importOnnx(decodeOnnx(fixtureBytes('resnet8-opset13.onnx')));
  const fail = (problem: string): never => {
    throw new Error(problem);
  };
  const layers = resnet.layers.slice(1);
  const blocks = graphBlocks(layers, null, fail);
  assert.deepEqual(
    blocks.blocks.map((b) => [b[0], b[b.length - 1]]),
    [
      ['conv', 'Relu'],
      ['layer1.conv1', 'layer1.Relu_1'],
      ['layer2.conv1.pad', 'layer2.Relu_1'],
      ['layer3.conv1.pad', 'GlobalAveragePool'],
    ],
  );
  assert.equal(blocks.readout, 'fc');
  assert.deepEqual(graphBlocks(layers, [['conv'], ['layer2.conv1']], fail).blocks.length, 2);
  assert.throws(
    () => graphBlocks(layers, [['conv'], ['layer2.shortcut.0']], fail),
    /starts at "layer2.shortcut.0", but a block may only start where one tensor carries everything forward; blocks may start at: .*layer2.conv1/,
  );
  assert.throws(() => graphBlocks(layers, [['conv'], ['nope']], fail), /names "nope", which is not a layer before the readout/);
  const mobile = importOnnx(decodeOnnx(fixtureBytes('mobile-opset13.onnx')));
  assert.deepEqual(
    graphBlocks(mobile.layers.slice(1), null, fail).blocks.map((b) => b.find((name) => !name.endsWith('.pad'))),
    ['stem', 'sep1.dw', 'sep1.pw', 'sep2.dw', 'sep2.pw'],
  );
});
