/**
 * The data-format traps a new user fell into (issue 23, tried with scikit-learn's digits), each
 * closed by a rule (docs/your-data.md#your-data-formats): the label column is found by name or
 * `--label-column`, never taken to be the first column; (N, H, W) arrays are one-channel images;
 * a folder of `X.npy` + `X.labels.npy` is NumPy data, not an image folder; data on another scale
 * than the network's training inputs is warned about; a study whose source and target samples
 * differ in shape exits 2 at config time, naming both shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float32, Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { fileFormatOf, readFileDataset } from '../stages/lib/formats/read.js';
import { inputStatsOf, rangeNote, readInputStats, RANGE_FACTOR } from '../stages/lib/models/input-stats.js';
import { saveNetwork } from '../stages/lib/models/models.js';
import { inputShapeFits } from '../stages/lib/models/source-network/topology.js';
import { defrost, sandbox } from './engine-helpers.js';
import { fixture, recommend } from './recommend-fixture.js';
import { scratchDir } from './stage-rig.js';

const KEEP = { size: null, channels: null };

function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = scratchDir('traps');
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('CSV and Arrow tables: the label column by name or --label-column, never the first column', async () => {
  await withDir(async (dir) => {
    // scikit-learn's digits as pandas writes them: features first, the labels in `target`.
    const digits = join(dir, 'digits.csv');
    writeFileSync(digits, 'pixel_0,pixel_1,target\n0,16,3\n1,15,5\n2,14,3\n');
    const { train } = await readFileDataset({ path: digits }, KEEP);
    assert.deepEqual(train.classes, ['3', '5']);
    assert.deepEqual([...train.features], [0, 16, 1, 15, 2, 14], 'the first column stays a feature');

    const unnamed = join(dir, 'unnamed.csv');
    writeFileSync(unnamed, 'a,b,digit\n0,1,3\n1,0,5\n');
    await assert.rejects(readFileDataset({ path: unnamed }, KEEP), (e: Error) =>
      /no label column \(columns: a, b, digit\): the labels are the column named by --label-column NAME, else the first column called \(in this order\) label, labels, target, class, y/.test(
        e.message,
      ),
    );
    const named = await readFileDataset({ path: unnamed, label_column: 'digit' }, KEEP);
    assert.deepEqual(
      [named.train.classes, [...named.train.features]],
      [
        ['3', '5'],
        [0, 1, 1, 0],
      ],
    );
    await assert.rejects(
      readFileDataset({ path: unnamed, label_column: 'digt' }, KEEP),
      /--label-column digt: no such column; did you mean digit\?/,
    );
    // `label` before `y`: a feature called y stays a feature.
    const both = join(dir, 'both.csv');
    writeFileSync(both, 'x,y,label\n0,1,a\n1,0,b\n');
    assert.deepEqual([...(await readFileDataset({ path: both }, KEEP)).train.features], [0, 1, 1, 0]);
    const twice = join(dir, 'twice.csv');
    writeFileSync(twice, 'Label,label,x\n0,1,2\n1,0,3\n');
    await assert.rejects(
      readFileDataset({ path: twice }, KEEP),
      /several columns are called label \(Label, label\): choose one with --label-column/,
    );

    // A flat Arrow table (what `df.to_feather` writes), the same rule.
    const flat = join(dir, 'digits.arrow');
    const table = new Table({
      pixel_0: vectorFromArray([0, 1, 2], new Float32()),
      pixel_1: vectorFromArray([16, 15, 14], new Int32()),
      digit: vectorFromArray(['three', 'five', 'three'], new Utf8()),
    });
    writeFileSync(flat, tableToIPC(table, 'file'));
    await assert.rejects(readFileDataset({ path: flat }, KEEP), /no label column/);
    const arrow = await readFileDataset({ path: flat, label_column: 'digit' }, KEEP);
    assert.deepEqual([arrow.train.classes, [...arrow.train.labels], arrow.train.shape], [['five', 'three'], [1, 0, 1], [2]]);

    // npy and image folders have no named columns.
    mkdirSync(join(dir, 'np'));
    writeFileSync(join(dir, 'np', 'features.npy'), encodeNpyArray([2, 2], new Float32Array(4)));
    writeFileSync(join(dir, 'np', 'labels.npy'), encodeNpyArray([2], Int32Array.of(0, 1)));
    await assert.rejects(
      readFileDataset({ path: join(dir, 'np'), label_column: 'y' }, KEEP),
      /only CSV and Arrow tables have named columns/,
    );
  });
});

test('(N, H, W) arrays are one-channel images; a folder of X.npy + X.labels.npy is NumPy data, not an image folder', async () => {
  await withDir(async (dir) => {
    const folder = join(dir, 'digits');
    mkdirSync(folder);
    writeFileSync(join(folder, 'X.npy'), encodeNpyArray([4, 8, 8], new Float32Array(256).fill(0.5)));
    writeFileSync(join(folder, 'X.labels.npy'), encodeNpyArray([4], Int32Array.of(0, 1, 0, 1)));
    assert.equal(fileFormatOf(folder), 'npy');
    const { train } = await readFileDataset({ path: folder }, KEEP);
    assert.deepEqual([train.rows, train.shape], [4, [8, 8, 1]]);
    assert.ok(inputShapeFits(train.shape, [8, 8, 1]), 'fits a network taking 8x8 grey images');
    // Two pairs: which one is meant? Named, never guessed (and never an image folder).
    writeFileSync(join(folder, 'Z.npy'), encodeNpyArray([4, 8, 8], new Float32Array(256)));
    writeFileSync(join(folder, 'Z.labels.npy'), encodeNpyArray([4], Int32Array.of(0, 1, 0, 1)));
    await assert.rejects(
      readFileDataset({ path: folder }, KEEP),
      /is an npy dataset: it must hold features\.npy and labels\.npy, or one X\.npy with its X\.labels\.npy \(it holds 2 such pairs/,
    );
  });
});

test('input statistics: recorded in model.json by saveNetwork; data on another scale warned about, an unrecorded network noted', async () => {
  await withDir(async (dir) => {
    const pixels = Float32Array.from({ length: 640 }, (_, i) => (i % 17) / 16);
    const stats = inputStatsOf(pixels);
    assert.deepEqual([stats.min, stats.max], [0, 1]);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    await saveNetwork(model, join(dir, 'net'), stats);
    model.dispose();
    assert.deepEqual(readInputStats(join(dir, 'net', 'model.json')), stats);

    const same = inputStatsOf(pixels.map((v) => v * 0.9));
    assert.equal(rangeNote(stats, same, 'net/model.json'), null, 'a similar range passes');
    const digits = inputStatsOf(pixels.map((v) => v * 16));
    assert.match(
      rangeNote(stats, digits, 'net/model.json') ?? '',
      new RegExp(
        `^warning: your data span \\[0, 16\\] .*net/model\\.json was trained on inputs spanning \\[0, 1\\] .*16x wider \\(defrost warns beyond a factor of ${RANGE_FACTOR}\\)`,
      ),
    );
    assert.match(
      rangeNote(null, digits, 'their/model.json') ?? '',
      /^note: their\/model\.json carries no record of its training inputs' range/,
    );
  });
});

test('recommend: a missing label column exits 2 stating the rule; data on 0..16 for a network trained on 0..1 is warned about', async () => {
  const f = await fixture();
  try {
    // digits as a CSV: 64 pixel columns on 0..16, the labels in a column called `digit`.
    const rows = Array.from({ length: 12 }, (_, r) => [...Array.from({ length: 64 }, (_, k) => (r * 7 + k * 3) % 17), r % 3].join(','));
    const csv = join(f.dir, 'digits.csv');
    writeFileSync(csv, [[...Array.from({ length: 64 }, (_, k) => `pixel_${k}`), 'digit'].join(','), ...rows].join('\n') + '\n');
    for (const [args, message] of [
      [['--data', csv], /digits\.csv: no label column \(columns: pixel_0, .*\): the labels are the column named by --label-column NAME/],
      [['--data', csv, '--label-column', 'digt'], /--label-column digt: no such column; did you mean digit\?/],
      [
        ['--data', f.images, '--label-column', 'digit'],
        /only CSV and Arrow tables have named columns \(an image folder labels by sub-folder\)/,
      ],
    ] as [string[], RegExp][]) {
      const r = recommend(f, args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
    }

    // The fixture's network as defrost would have trained it: its inputs' range in model.json.
    const json = JSON.parse(readFileSync(f.model, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      f.model,
      JSON.stringify({ ...json, userDefinedMetadata: { defrost_input_stats: { min: 0, max: 1, mean: 0.4, std: 0.3 } } }),
    );
    const r = recommend(f, ['--data', csv, '--label-column', 'digit', '--folds', '2', '--depths', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      (r.stderr + r.stdout).replace(/\n {2}/g, ' '),
      /warning: your data span \[0, 16\] .* was trained on inputs spanning \[0, 1\] .*16x wider/,
    );
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a study whose source samples are 28x28 and target samples 8x8 exits 2 at config time, naming both shapes', () => {
  const box = sandbox({ DEFROST_PROJECT_MODULE: undefined });
  try {
    const data = (name: string, side: number): string => {
      const folder = join(box.dir, name);
      mkdirSync(folder);
      writeFileSync(join(folder, 'X.npy'), encodeNpyArray([70, side, side], new Float32Array(70 * side * side)));
      writeFileSync(
        join(folder, 'X.labels.npy'),
        encodeNpyArray(
          [70],
          Int32Array.from({ length: 70 }, (_, i) => i % 2),
        ),
      );
      return folder;
    };
    const config = join(box.dir, 'study.yaml');
    writeFileSync(
      config,
      [
        'task:',
        '  kind: image',
        `  source: {dataset: "files:${data('big', 28)}", classes: [0, 1]}`,
        `  target: {dataset: "files:${data('small', 8)}", classes: [0, 1]}`,
        '  source_size: 20',
        '  target_pool: 20',
        '  target_sizes: [10]',
        '  target_reference_size: 20',
        '  test_size: 10',
        '  validation_size: 10',
        'model: {kind: cnn}',
        'similarity: {probe_size: 10}',
      ].join('\n'),
    );
    const r = defrost(box, ['run', config]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /task\.target\.dataset: got "files:.*small"; allowed: data whose samples have the source data's shape \[28,28,1\] .*these samples have shape \[8,8,1\]/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    box.cleanup();
  }
});
