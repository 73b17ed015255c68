/**
 * ONNX through the command line (docs/your-data.md): `defrost blocks` lists a ResNet's blocks;
 * `recommend --model net.onnx --save-model DIR` answers and writes the fine-tuned network as ONNX
 * whose logits onnxruntime and defrost agree on (1e-4), frozen blocks' initializers unchanged,
 * with defrost.json; a TensorFlow.js source (a CNN, a dense network) comes back as TensorFlow.js
 * with its own layer names and as ONNX whose logits onnxruntime computes as TensorFlow.js does;
 * an unsupported op, a PyTorch checkpoint and a graph model.json exit 2 naming the problem.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import '../stages/lib/models/layers/register.js';
import { selectBackend } from '../stages/lib/models/backend.js';
import { loadNetwork } from '../stages/lib/models/models.js';
import { importOnnx } from '../stages/lib/models/onnx/import.js';
import { layersArtifacts } from '../stages/lib/models/onnx/layers-artifacts.js';
import { decodeOnnx } from '../stages/lib/models/onnx/proto.js';
import { Rng } from '../stages/lib/random.js';
import { BIN } from './engine-helpers.js';
import { editedFixture, fixtureBytes, fixtureData, FIXTURES, maxAbsDiff, toNhwc } from './onnx-fixtures.js';
import { foreignMlp, saveLayersModel, stridedCnn } from './source-network-fixture.js';

function defrost(dir: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `classes` folders of `perClass` colour images of `size` x `size`, told apart by colour. */
async function images(dir: string, classes: number, perClass: number, size: number, channels: 1 | 3): Promise<string> {
  const rng = new Rng(9, 'onnx-command-images');
  for (let c = 0; c < classes; c++) {
    mkdirSync(join(dir, `c${c}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const raw = Buffer.alloc(size * size * channels);
      for (let k = 0; k < raw.length; k++) raw[k] = Math.floor(60 * rng.uniform() + (k % channels === c % channels ? 150 : 40));
      await sharp(raw, { raw: { width: size, height: size, channels } })
        .png()
        .toFile(join(dir, `c${c}`, `${i}.png`));
    }
  }
  return dir;
}

// A two-epoch budget: recommend's own holds at least 2,000 steps (docs/protocol.md#recommend-at-small-n).
const quick = [
  '--folds',
  '2',
  '--set',
  'train.early_stopping.max_epochs=2',
  '--set',
  'train.min_steps=0',
  '--set',
  'train.batch_size=8',
  '--jobs',
  '2',
];

test('defrost blocks lists the residual units of the ResNet with shapes and parameters', () => {
  const r = defrost(FIXTURES, ['blocks', '--model', 'resnet8-opset13.onnx', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
    blocks: { layers: string[]; output_shape: number[]; parameters: number }[];
    readout: { layer: string; units: number };
  };
  assert.deepEqual(
    out.blocks.map((b) => b.output_shape),
    [[32, 32, 16], [32, 32, 16], [16, 16, 32], [64]],
  );
  assert.equal(out.blocks.reduce((s, b) => s + b.parameters, 0) + 650, 78714);
  assert.deepEqual(out.readout, { layer: 'fc', units: 10, parameters: 650 });
});

test(
  'recommend --save-model with an ONNX network: onnxruntime and defrost agree on the saved network, frozen blocks unchanged',
  { timeout: 600_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'defrost-onnx-'));
    try {
      copyFileSync(join(FIXTURES, 'mobile-opset13.onnx'), join(dir, 'net.onnx'));
      await images(join(dir, 'imgs'), 3, 6, 32, 3);
      const r = defrost(dir, [
        'recommend',
        '--model',
        'net.onnx',
        '--data',
        'imgs',
        '--depths',
        '0,3',
        '--store',
        'store',
        '--save-model',
        'out',
        '--json',
        ...quick,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const answer = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { l_star: number };
      const record = JSON.parse(readFileSync(join(dir, 'out', 'defrost.json'), 'utf8')) as {
        l_star: number;
        blocks_frozen: string[][];
        data: { sha256: string };
        source: { format: string };
        files: string[];
      };
      assert.equal(record.l_star, answer.l_star);
      assert.equal(record.blocks_frozen.length, answer.l_star);
      assert.equal(record.source.format, 'onnx');
      assert.match(record.data.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(record.files, ['model.onnx']);

      const saved = readFileSync(join(dir, 'out', 'model.onnx'));
      const { inputs } = fixtureData('mobile');
      const session = await ort.InferenceSession.create(saved);
      const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', inputs.values, inputs.shape) });
      const fromOrt = result[session.outputNames[0]];
      assert.deepEqual(fromOrt.dims, [64, 3]);
      await selectBackend('wasm-blas', 1);
      const imported = importOnnx(decodeOnnx(saved));
      const a = layersArtifacts(imported);
      const model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }),
      );
      const [n, c, h, w] = inputs.shape;
      const ours = tf.tidy(() => (model.predict(tf.tensor(toNhwc(inputs.values, inputs.shape), [n, h, w, c])) as tf.Tensor).dataSync());
      const diff = maxAbsDiff(fromOrt.data as Float32Array, ours);
      assert.ok(diff < 1e-4, `onnxruntime vs defrost: max abs diff ${diff}`);
      model.dispose();
      // Frozen blocks' weights (and BatchNorm statistics) are the source's own bytes.
      const original = importOnnx(decodeOnnx(fixtureBytes('mobile-opset13.onnx')));
      const frozen = new Set(record.blocks_frozen.flat());
      const kept = original.weights.filter((wt) => frozen.has(wt.layer));
      assert.ok(kept.length > 0 || answer.l_star === 0);
      for (const wt of kept) {
        const now = imported.weights.find((x) => x.layer === wt.layer && x.weight === wt.weight);
        assert.deepEqual(now?.values, wt.values, `${wt.layer}/${wt.weight}`);
      }
      // DIR is never overwritten.
      const again = defrost(dir, [
        'recommend',
        '--model',
        'net.onnx',
        '--data',
        'imgs',
        '--depths',
        '0,3',
        '--store',
        'store',
        '--save-model',
        'out',
        ...quick,
      ]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /--save-model out: exists and is not an empty directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/**
 * `recommend --save-model` with the TensorFlow.js network `net`: the saved model.json keeps the
 * network's own layer names (`names`), and onnxruntime's logits for the saved model.onnx equal
 * TensorFlow.js's for the saved model.json on a batch of 16 images (docs/your-data.md#the-model-out).
 * `args` are added to the command.
 */
async function savedTfjsAgrees(t: TestContext, net: tf.LayersModel, names: readonly string[], args: readonly string[] = []): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-onnx-'));
  try {
    const model = await saveLayersModel(net, join(dir, 'net'));
    await images(join(dir, 'imgs'), 3, 6, 8, 1);
    const r = defrost(dir, [
      'recommend',
      '--model',
      model,
      '--data',
      'imgs',
      '--depths',
      '0,2',
      '--store',
      'store',
      '--save-model',
      'out',
      ...quick,
      ...args,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(readFileSync(join(dir, 'out', 'defrost.json'), 'utf8')) as { files: string[]; source: { format: string } };
    assert.equal(record.source.format, 'tfjs-layers');
    assert.deepEqual(record.files, ['model.json', 'weights.bin', 'model.onnx']);
    const json = JSON.parse(readFileSync(join(dir, 'out', 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: { name: string }[] } };
    };
    const layers = json.modelTopology.config.layers.map((l) => l.name);
    for (const name of names) assert.ok(layers.includes(name), layers.join(', '));

    await selectBackend('cpu', 1);
    const loaded = await loadNetwork(join(dir, 'out'));
    assert.deepEqual(loaded.outputs[0].shape, [null, 3]);
    const rng = new Rng(11, 'onnx-command-batch');
    const shape = [16, ...(loaded.inputs[0].shape.slice(1) as number[])];
    const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform());
    const expected = tf.tidy(() => (loaded.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    loaded.dispose();
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'out', 'model.onnx')));
    const logits = (await session.run({ input: new ort.Tensor('float32', x, shape) })).logits;
    assert.deepEqual(logits.dims, [16, 3]);
    const diff = maxAbsDiff(logits.data as Float32Array, expected);
    t.diagnostic(`max abs diff onnxruntime vs TensorFlow.js on the saved network: ${diff.toExponential(2)}`);
    assert.ok(diff < 1e-4, `onnxruntime vs TensorFlow.js: max abs diff ${diff}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'recommend --save-model with a TensorFlow.js CNN (strided, BatchNorm, pooling): TensorFlow.js layers with its own names, and ONNX whose logits onnxruntime computes as TensorFlow.js does',
  { timeout: 600_000 },
  (t) => savedTfjsAgrees(t, stridedCnn(), ['stem_conv', 'stem_bn', 'mid_conv', 'flat', 'probabilities']),
);

test(
  'recommend --save-model with a TensorFlow.js dense network: ONNX whose logits onnxruntime computes as TensorFlow.js does',
  { timeout: 600_000 },
  (t) => savedTfjsAgrees(t, foreignMlp(), ['hidden1', 'hidden2', 'probabilities'], ['--channels', '1']),
);

test('recommend --save-model with a TensorFlow.js layer that has no ONNX form exits 2 naming it, before anything trains', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-onnx-'));
  try {
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [64], units: 8, name: 'hidden' }),
        tf.layers.softmax({ axis: 0, name: 'over_batch' }),
        tf.layers.dense({ units: 3, name: 'readout' }),
      ],
    });
    const model = await saveLayersModel(net, join(dir, 'net'));
    const r = defrost(dir, ['recommend', '--model', model, '--data', 'imgs', '--store', 'store', '--save-model', 'out']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /layer "over_batch" \(Softmax\) cannot be written as ONNX: .*batch axis.*--save-model writes the network as ONNX/,
    );
    assert.ok(!existsSync(join(dir, 'store')) && !existsSync(join(dir, 'out')), 'nothing ran, nothing was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unsupported op, a PyTorch checkpoint and a graph model.json exit 2 naming the problem and the formats', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-onnx-'));
  try {
    await images(join(dir, 'imgs'), 2, 3, 32, 3);
    writeFileSync(
      join(dir, 'elu.onnx'),
      editedFixture('mobile-opset13.onnx', (m) => {
        const node = m.graph?.node?.find((n) => n.opType === 'Relu');
        if (node) node.opType = 'Elu';
      }),
    );
    writeFileSync(join(dir, 'net.pt'), Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]));
    writeFileSync(join(dir, 'graph.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] } }));
    const cases: [string, RegExp][] = [
      ['elu.onnx', /node "\/Relu" \(Elu\) is not supported; supported operators: Conv/],
      ['net.pt', /a PyTorch checkpoint .* defrost reads ONNX files \(torch.onnx.export/],
      ['graph.json', /a TensorFlow.js graph model, which cannot be fine-tuned; defrost reads ONNX files/],
    ];
    for (const [file, message] of cases) {
      const r = defrost(dir, ['recommend', '--model', file, '--data', 'imgs', '--store', 'store']);
      assert.equal(r.code, 2, `${file}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const b = defrost(dir, ['blocks', '--model', file]);
      assert.equal(b.code, 2, `${file}: ${b.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
