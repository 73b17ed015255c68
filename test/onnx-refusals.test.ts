/**
 * ONNX files defrost cannot use are refused before any work with the reason (docs/your-data.md#onnx):
 * each unsupported operator, opset, dynamic shape and non-float32 weight is named; and a corpus
 * of 200 truncated or mutated fixtures only ever gives such a refusal or a working network —
 * never another error, never a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '../stages/lib/models/layers/register.js';
import { importOnnx } from '../stages/lib/models/onnx/import.js';
import { layersArtifacts } from '../stages/lib/models/onnx/layers-artifacts.js';
import { decodeOnnx, OnnxError, onnxSchema } from '../stages/lib/models/onnx/proto.js';
import { graphBlocks } from '../stages/lib/models/source-network/graph-blocks.js';
import { selectBackend } from '../stages/lib/models/backend.js';
import { Rng } from '../stages/lib/random.js';
import { editedFixture, fixtureBytes } from './onnx-fixtures.js';

const load = (bytes: Uint8Array): unknown => importOnnx(decodeOnnx(bytes));

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => load(bytes),
    (error: unknown) => error instanceof OnnxError && pattern.test(error.message),
  );
}

test('unsupported operators, opsets, dynamic shapes and non-float32 weights are refused, naming them', () => {
  const file = 'resnet8-opset13.onnx';
  refused(
    editedFixture(file, (m) => {
      const node = m.graph?.node?.find((n) => n.opType === 'Relu');
      if (node) node.opType = 'Elu';
    }),
    /node "\/Relu" \(Elu\) is not supported; supported operators: Conv, Gemm, .*BatchNormalization/,
  );
  refused(
    editedFixture(file, (m) => {
      const node = m.graph?.node?.find((n) => n.opType === 'Conv');
      if (node) node.opType = 'QLinearConv';
    }),
    /\(QLinearConv\) is not supported \(a quantized network: export it in float32\)/,
  );
  refused(
    editedFixture(file, (m) => {
      const node = m.graph?.node?.[5];
      if (node) node.domain = 'com.microsoft';
    }),
    /of domain "com.microsoft" is not supported/,
  );
  for (const version of [12, 19])
    refused(
      editedFixture(file, (m) => {
        m.opsetImport = [onnxSchema().OperatorSetIdProto.create({ domain: '', version })];
      }),
      new RegExp(`opset ${version} is not supported; defrost reads opsets 13-18`),
    );
  refused(
    editedFixture(file, (m) => {
      const dims = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim;
      if (dims) dims[2] = onnxSchema().TensorShapeProto.Dimension.create({ dimParam: 'height' });
    }),
    /input "input" has a dynamic shape: dimension 2 is "height"; only the batch \(dimension 0\) may vary/,
  );
  refused(
    editedFixture(file, (m) => {
      const weight = m.graph?.initializer?.find((t) => t.name === 'layer1.conv1.weight');
      if (weight?.rawData) {
        weight.dataType = onnxSchema().TensorProto.DataType.FLOAT16;
        weight.rawData = weight.rawData.subarray(0, weight.rawData.length / 2);
      }
    }),
    /its weight "layer1.conv1.weight" is float16; only float32 weights are supported \(a quantized or half-precision network/,
  );
  refused(
    editedFixture(file, (m) => {
      const weight = m.graph?.initializer?.[0];
      if (weight) {
        weight.dataLocation = onnxSchema().TensorProto.DataLocation.EXTERNAL;
        weight.rawData = new Uint8Array(0);
      }
    }),
    /keeps its values in an external file/,
  );
  refused(Buffer.from('not an onnx file at all'), /not a readable ONNX model|holds no graph/);
});

/** A mutated copy of `bytes`: truncated, bytes flipped, a stretch overwritten, or a field changed. */
function mutate(bytes: Uint8Array, rng: Rng, kind: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const at = (n: number): number => Math.floor(rng.uniform() * n);
  switch (kind % 4) {
    case 0:
      return copy.subarray(0, at(copy.length));
    case 1:
      for (let k = 0, n = 1 + at(12); k < n; k++) copy[at(copy.length)] ^= 1 << at(8);
      return copy;
    case 2: {
      const start = at(copy.length);
      for (let k = start; k < Math.min(copy.length, start + 1 + at(64)); k++) copy[k] = at(256);
      return copy;
    }
    default:
      // A structured change the protobuf still decodes: a number in the graph made odd.
      return editedFixture('mixed-opset13.onnx', (m) => {
        const graph = m.graph;
        if (!graph?.node || !graph.initializer) return;
        const node = graph.node[at(graph.node.length)];
        const odd = [0, -1, 1, 3, 7, 1e6, -1e9][at(7)];
        switch (at(6)) {
          case 0:
            for (const a of node.attribute ?? []) if (a.ints && a.ints.length > 0) a.ints[at(a.ints.length)] = odd;
            break;
          case 1:
            for (const a of node.attribute ?? []) if (a.i !== undefined && a.i !== null) a.i = odd;
            break;
          case 2: {
            const t = graph.initializer[at(graph.initializer.length)];
            if (t.dims && t.dims.length > 0) t.dims[at(t.dims.length)] = odd;
            break;
          }
          case 3:
            graph.node.reverse();
            break;
          case 4:
            if (node.input && node.input.length > 0) node.input[at(node.input.length)] = ['', 'nowhere', 'input'][at(3)];
            break;
          default: {
            const dims = graph.input?.[0]?.type?.tensorType?.shape?.dim;
            if (dims) dims[1 + at(3)] = onnxSchema().TensorShapeProto.Dimension.create({ dimValue: odd });
          }
        }
      });
  }
}

test(
  '200 truncated or mutated ONNX files: a refusal naming the problem or a working network, never a crash or a hang',
  { timeout: 120_000 },
  async (t) => {
    await selectBackend('wasm-blas', 1);
    const rng = new Rng(11, 'onnx-fuzz');
    const sources = ['mixed-opset13.onnx', 'mobile-opset17.onnx', 'resnet8-opset13.onnx'].map((f) => fixtureBytes(f));
    const outcomes = { refused: 0, loaded: 0 };
    for (let k = 0; k < 200; k++) {
      const bytes = mutate(sources[k % sources.length], rng, k);
      let network;
      try {
        network = importOnnx(decodeOnnx(bytes));
        graphBlocks(network.layers.slice(1), null, (problem) => {
          throw new OnnxError(problem);
        });
      } catch (error) {
        assert.ok(error instanceof OnnxError, `case ${k}: ${(error as Error).stack}`);
        assert.ok(
          (error as Error).message.length > 10 && !/\n\s+at /.test((error as Error).message),
          `case ${k}: ${(error as Error).message}`,
        );
        outcomes.refused++;
        continue;
      }
      // What imports also builds and runs.
      const a = layersArtifacts(network);
      const model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }),
      );
      const logits = tf.tidy(() => (model.predict(tf.zeros([1, ...network.inputShape])) as tf.Tensor).dataSync());
      assert.ok(logits.length > 0, `case ${k}`);
      model.dispose();
      outcomes.loaded++;
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(outcomes.refused > 50 && outcomes.loaded > 10, JSON.stringify(outcomes));
  },
);
