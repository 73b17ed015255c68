/**
 * A study with a pre-trained source network (`source_model`, docs/your-data.md) and the user's own
 * train/test pair: import-source replaces every train-source, every depth of the foreign network
 * (built with plain TensorFlow.js, layer names of its own) is transferred, editing the network
 * re-runs import-source and what follows but not generate-data; a network that does not fit the
 * data, a depth beyond its blocks and a pair whose classes differ exit 2 before anything runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadConfig } from '../pipeline/config-loader.js';
import { ConfigError } from '../pipeline/errors.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { defrostProject } from '../stages/project.js';
import { BIN } from './engine-helpers.js';
import { foreignCnn, saveLayersModel } from './source-network-fixture.js';
import { scratchDir } from './stage-rig.js';

/** `perClass` 8x8 grey images of each class under `dir/<class>/`, told apart by brightness and a stripe. */
async function writeImages(dir: string, classes: readonly string[], perClass: number, offset: number): Promise<void> {
  for (const [c, name] of classes.entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const raw = Buffer.alloc(64);
      for (let k = 0; k < 64; k++)
        raw[k] = Math.max(0, Math.min(255, 40 + 70 * c + ((k * 37 + (i + offset) * 11) % 50) - 25 + (k % 8 === 2 * c ? 50 : 0)));
      await sharp(raw, { raw: { width: 8, height: 8, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(join(dir, name, `${String(i).padStart(3, '0')}.png`));
    }
  }
}

function studyYaml(lines: { model: string; target: string; depths?: string }): string {
  return [
    'seed: 0',
    `source_model: ${JSON.stringify(lines.model)}`,
    'task:',
    '  kind: image',
    `  target: {dataset: ${lines.target}, classes: [0, 1, 2]}`,
    '  target_pool: 30',
    '  target_sizes: [15, 30]',
    '  target_reference_size: 30',
    '  test_size: 18',
    '  validation_size: 15',
    'train: {batch_size: 16, epochs: 2, min_steps: 6, early_stopping: {patience: 2, max_epochs: 3, check_steps: 6}}',
    `transfer: {modes: [defrost], depths: ${lines.depths ?? 'all'}}`,
    'seeds: [0, 1]',
    'similarity: {probe_size: 15, k: 3, measures: [cka]}',
    'prediction: {enabled: true, reference_seeds: 2}',
  ].join('\n');
}

function defrostRun(dir: string, config: string, store: string) {
  return spawnSync(process.execPath, [BIN, 'run', config, '--store', store, '--jobs', '2', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' },
    timeout: 300_000,
  });
}

function executedByStage(stdout: string): Record<string, number> {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return (JSON.parse(last) as { executed_by_stage: Record<string, number> }).executed_by_stage;
}

/** The foreign CNN with seeded weights (another seed: other bytes, the same architecture). */
async function saveForeign(dir: string, seed: number, inputShape: [number, number, number] = [8, 8, 1]): Promise<string> {
  const model = foreignCnn(inputShape);
  model.setWeights(model.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.3, 0.3, 'float32', seed * 100 + i)));
  try {
    return await saveLayersModel(model, dir);
  } finally {
    model.dispose();
  }
}

test('source_model: import-source replaces train-source, every depth transfers, editing the network re-runs it and downstream', async () => {
  const dir = scratchDir('source-model-study');
  try {
    await writeImages(join(dir, 'images', 'train'), ['boots', 'hats', 'socks'], 20, 0);
    await writeImages(join(dir, 'images', 'test'), ['boots', 'hats', 'socks'], 6, 100);
    await saveForeign(join(dir, 'net'), 1);
    const config = join(dir, 'study.yaml');
    writeFileSync(config, studyYaml({ model: 'net/model.json', target: '{train: images/train, test: images/test}' }));
    const store = join(dir, 'store');

    const first = defrostRun(dir, config, store);
    assert.equal(first.status, 0, first.stderr);
    const ran = executedByStage(first.stdout);
    // One import for both seeds, no source data or training; 2 n x 2 seeds x depths 0..3.
    assert.equal(ran['train-source'], undefined, JSON.stringify(ran));
    assert.equal(ran['import-source'], 1, JSON.stringify(ran));
    assert.equal(ran['generate-data'], 1, JSON.stringify(ran));
    assert.equal(ran['transfer'], 16, JSON.stringify(ran));
    // Frozen-prefix activations (docs/performance.md): one per depth 1..3, computed once for both
    // seeds, both n and every transfer at that depth.
    assert.equal(ran['prefix'], 3, JSON.stringify(ran));
    assert.equal(ran['similarity'], 1, JSON.stringify(ran));
    assert.equal(ran['predict'], 2, JSON.stringify(ran));
    assert.equal(ran['aggregate'], 1, JSON.stringify(ran));
    // The pair's own test files are the test set: 18 images, none held out of the training folder.
    const status = spawnSync(process.execPath, [BIN, 'status', config, '--store', store, '--json'], { cwd: dir, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    const { instances } = JSON.parse(status.stdout.trim().split('\n').at(-1) ?? '{}') as {
      instances: { id: string; stage: string; key: string }[];
    };
    for (const prefix of instances.filter((i) => i.stage === 'prefix')) {
      const { summary } = JSON.parse(readFileSync(join(store, 'prefix', prefix.key, 'manifest.json'), 'utf8')) as {
        summary: { cached: boolean };
      };
      assert.equal(summary.cached, true, `${prefix.id} holds its activations`);
    }
    const data = instances.find((i) => i.stage === 'generate-data');
    assert.ok(data);
    const manifest = JSON.parse(readFileSync(join(store, 'generate-data', data.key, 'manifest.json'), 'utf8')) as {
      summary: { test_rows: number; shape: number[]; classes: string[] };
    };
    assert.equal(manifest.summary.test_rows, 18);
    assert.deepEqual(manifest.summary.shape, [8, 8, 1]);
    assert.deepEqual(manifest.summary.classes, ['boots', 'hats', 'socks']);
    const aggregate = instances.find((i) => i.stage === 'aggregate');
    assert.ok(aggregate);
    assert.match(
      readFileSync(join(store, 'aggregate', aggregate.key, 'report.html'), 'utf8'),
      /source network is the pre-trained net\/model\.json/,
    );

    // The same network again computes nothing; another network's bytes re-run import-source and
    // everything downstream of it, but not the data.
    assert.deepEqual(executedByStage(defrostRun(dir, config, store).stdout), {});
    await saveForeign(join(dir, 'net'), 2);
    const edited = defrostRun(dir, config, store);
    assert.equal(edited.status, 0, edited.stderr);
    const rerun = executedByStage(edited.stdout);
    assert.equal(rerun['import-source'], 1, JSON.stringify(rerun));
    assert.equal(rerun['generate-data'], undefined, JSON.stringify(rerun));
    assert.equal(rerun['transfer'], 16, JSON.stringify(rerun));
    assert.equal(rerun['prefix'], 3, JSON.stringify(rerun));
    assert.ok((rerun['train-scratch'] ?? 0) > 0, JSON.stringify(rerun));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('source_model: data that do not fit the network, or a depth beyond its blocks, exit 2 before anything runs', async () => {
  const dir = scratchDir('source-model-study');
  try {
    const rows = 42;
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'data', 'features.npy'),
      encodeNpyArray(
        [rows, 8, 8, 1],
        new Float32Array(rows * 64).map((_, i) => (i % 7) / 7),
      ),
    );
    writeFileSync(
      join(dir, 'data', 'labels.npy'),
      encodeNpyArray(
        [rows],
        new Int32Array(rows).map((_, i) => i % 3),
      ),
    );
    await saveForeign(join(dir, 'wide'), 1, [10, 10, 1]);
    await saveForeign(join(dir, 'net'), 1);
    const store = join(dir, 'store');

    const misfit = join(dir, 'misfit.yaml');
    writeFileSync(misfit, studyYaml({ model: 'wide/model.json', target: '"files:data"' }));
    const shape = defrostRun(dir, misfit, store);
    assert.equal(shape.status, 2, shape.stderr);
    assert.match(shape.stderr, /source_model/);
    assert.match(shape.stderr, /\[8,8,1\]/);
    assert.match(shape.stderr, /\[10,10,1\]/);

    // A dense network on an image folder kept at its images' own size (read from the PNG headers).
    await writeImages(join(dir, 'images'), ['boots', 'hats', 'socks'], 2, 0);
    const dense = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [50], units: 4, name: 'hidden' }), tf.layers.dense({ units: 3, name: 'out' })],
    });
    await saveLayersModel(dense, join(dir, 'dense'));
    dense.dispose();
    const flat = join(dir, 'flat.yaml');
    writeFileSync(flat, studyYaml({ model: 'dense/model.json', target: '"files:images"' }));
    const folder = defrostRun(dir, flat, store);
    assert.equal(folder.status, 2, folder.stderr);
    assert.match(folder.stderr, /target samples' shape \[8,8,1\].*takes inputs of shape \[50\]/);

    const deep = join(dir, 'deep.yaml');
    writeFileSync(deep, studyYaml({ model: 'net/model.json', target: '"files:data"', depths: '[0, 4]' }));
    const depth = defrostRun(dir, deep, store);
    assert.equal(depth.status, 2, depth.stderr);
    assert.match(
      depth.stderr,
      /transfer\.depths\[1\]: got 4; allowed: an integer from 0 to 3 \(source_model net\/model\.json has 3 blocks\)/,
    );
    for (const r of [shape, folder, depth]) assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'a stack trace reached the user');
    assert.ok(!existsSync(store) || readdirSync(store).every((e) => e.startsWith('.')), 'a rejected config wrote to the store');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a {train, test} pair whose classes differ exits 2 naming both files; task.source with source_model is refused', async () => {
  const dir = scratchDir('source-model-study');
  try {
    await writeImages(join(dir, 'train'), ['boots', 'hats', 'socks'], 2, 0);
    await writeImages(join(dir, 'test'), ['boots', 'hats', 'shirts'], 1, 0);
    await saveForeign(join(dir, 'net'), 1);
    const store = join(dir, 'store');
    const config = join(dir, 'pair.yaml');
    writeFileSync(config, studyYaml({ model: 'net/model.json', target: '{train: train, test: test}' }));
    const r = defrostRun(dir, config, store);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /task\.target\.dataset/);
    assert.ok(r.stderr.includes(join(dir, 'test')) && r.stderr.includes(join(dir, 'train')), r.stderr);
    assert.match(r.stderr, /only in the training data: socks; only in the test data: shirts/);

    const both = join(dir, 'both.yaml');
    writeFileSync(
      both,
      studyYaml({ model: 'net/model.json', target: '{train: train, test: train}' }).replace(
        '  kind: image',
        '  kind: image\n  source: {dataset: mnist, classes: [0, 1]}',
      ),
    );
    const contradictory = defrostRun(dir, both, store);
    assert.equal(contradictory.status, 2, contradictory.stderr);
    assert.match(contradictory.stderr, /task\.source: .*omitted when source_model is given/);
    assert.ok(!existsSync(store) || readdirSync(store).every((e) => e.startsWith('.')), 'a rejected config wrote to the store');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('source_model config rules: not for synthetic tasks, source_blocks needs it, an image task needs a source, no model section beside it; task.images needs image folders', () => {
  const dir = scratchDir('source-model-config');
  try {
    const issuesOf = (yaml: string): string => {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, yaml);
      try {
        loadConfig(defrostProject, file);
        return '';
      } catch (error) {
        assert.ok(error instanceof ConfigError && error.exitCode === 2, String(error));
        return error.message;
      }
    };
    assert.match(
      issuesOf('source_model: net/model.json\ntask: {kind: synthetic}\n'),
      /source_model: got "net\/model.json"; allowed: null for a synthetic task/,
    );
    assert.match(issuesOf('source_blocks: [[a]]\ntask: {kind: synthetic}\n'), /source_blocks: .*allowed: null unless source_model/);
    assert.match(
      issuesOf(
        'task: {kind: image, target: {dataset: mnist, classes: [0, 1]}, target_pool: 10, target_sizes: [10], target_reference_size: 10, test_size: 10, validation_size: 10}\n',
      ),
      /task\.source: .*required unless source_model/,
    );
    assert.match(
      issuesOf('source_model: no/such/model.json\ntask: {kind: image, target: {dataset: mnist, classes: [0, 1]}}\n'),
      /source_model: .*no\/such\/model\.json: no such file/,
    );
    assert.match(
      issuesOf('source_model: no/such/model.json\nmodel: {hidden: [4]}\ntask: {kind: image, target: {dataset: mnist, classes: [0, 1]}}\n'),
      /model: got .*; allowed: omitted when source_model is given/,
    );
    assert.match(
      issuesOf(
        'task: {kind: image, source: {dataset: mnist, classes: [0, 1]}, target: {dataset: mnist, classes: [2, 3]}, images: {size: [8, 8]}}\n',
      ),
      /task\.images: .*only image folders/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
