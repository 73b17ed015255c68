/**
 * Issue 27, the user-input side: a dataset, a network or a `compare` matrix that is hostile or
 * merely odd never hangs, exhausts memory, poisons a cached result or ends in a stack trace; it
 * is refused with exit 2 naming the file and what to do (docs/reliability.md, "Your files"). One
 * test per defect (numbers as in the issue) and per "partial" finding. FIFOs and devices are
 * tried through the CLI only: on code that reads them blocking, an in-process test would hang.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from './engine-helpers.js';
import {
  editedNetwork,
  FEATURES_KERNEL_AT,
  layerOf,
  measuredCli,
  STACK_TRACE,
  weightOf,
  type Measured,
  type ModelJson,
} from './hostile-input-kit.js';
import { fixture, type Fixture } from './recommend-fixture.js';
import { sourceLines } from './source-scan.js';
import { studyConfig, writeBlobsCsv } from './file-data-fixtures.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { DataFileError } from '../stages/lib/formats/problem.js';
import { readFileDataset } from '../stages/lib/formats/read.js';
import { readSourceFiles, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { StageFailure } from '../pipeline/errors.js';
import { editedFixture, fixtureBytes } from './onnx-fixtures.js';

let f: Fixture;
before(async () => {
  f = await fixture();
});
after(() => rmSync(f.dir, { recursive: true, force: true }));

const cli = (args: readonly string[]): Measured => measuredCli(f.dir, args);

/** Exit 2, no stack trace, ended on its own, and the message says `what`. */
function refused(r: Measured, what: RegExp, label: string): void {
  assert.notEqual(r.code, null, `${label}: killed after ${r.seconds} s (hung)`);
  assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr.slice(0, 1500)}`);
  assert.doesNotMatch(r.stderr, STACK_TRACE, `${label}: a stack trace`);
  assert.match(r.stderr, what, label);
}

const recommendArgs = (model: string, data: string, ...more: string[]): string[] => [
  'recommend',
  '--model',
  model,
  '--data',
  data,
  '--store',
  join(f.dir, 'store-hostile'),
  '--set',
  'train.epochs=1',
  ...more,
];
/** Nothing planned, run or recorded by a refused recommend. */
function storeUntouched(): void {
  const store = join(f.dir, 'store-hostile');
  const entries = existsSync(store) ? readdirSync(store).filter((n) => n !== '.defrost-store') : [];
  assert.deepEqual(entries, [], 'a refused command wrote to the store');
}

const network = (name: string, edit?: (json: ModelJson, dir: string) => void): string =>
  editedNetwork(f.model, join(f.dir, 'nets', name), edit);
const layer = layerOf;
const weight = weightOf;

const dataError = (pattern: RegExp) => (error: unknown) => error instanceof DataFileError && pattern.test(error.message);

test('defect 2: a files: dataset edited after planning fails generate-data instead of poisoning the cache', () => {
  const dir = join(f.dir, 'study2');
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'blobs.csv');
  writeBlobsCsv(csv, 140);
  const config = join(dir, 'study.yaml');
  writeFileSync(config, studyConfig(csv));
  const store = join(dir, 'store');
  const make = cli(['make', config, '--store', store]);
  assert.equal(make.code, 0, make.stderr);
  const keys = readdirSync(join(store, '.plans', 'generate-data')).map((n) => n.slice(0, 16));
  assert.equal(keys.length, 2);
  const original = readFileSync(csv, 'utf8');
  writeFileSync(csv, original.replace(/\n(a,)[-0-9.]+/, '\n$19.5'));
  const ex = cli(['exec', 'generate-data', keys[0], '--store', store]);
  assert.equal(ex.code, 1, ex.stderr);
  assert.match(ex.stdout + ex.stderr, /changed since this instance was planned/);
  assert.equal(existsSync(join(store, 'generate-data', keys[0], 'manifest.json')), false, 'published from edited data');
  writeFileSync(csv, original);
  const ok = cli(['exec', 'generate-data', keys[0], '--store', store]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(cli(['verify', '--store', store]).code, 0);
});

test('defect 6: FIFOs, devices and sockets are refused at once, wherever a file is read', () => {
  const dir = join(f.dir, 'special6');
  mkdirSync(dir, { recursive: true });
  const good = join(dir, 'good.csv');
  writeFileSync(good, 'a,b\n1,2\n3,4\n5,6\n');
  execFileSync('mkfifo', [join(dir, 'fifo.csv')]);
  symlinkSync('/dev/zero', join(dir, 'zero.csv'));
  refused(cli(['compare', join(dir, 'fifo.csv'), good]), /fifo\.csv: is a FIFO/, 'compare FIFO');
  refused(cli(['compare', join(dir, 'zero.csv'), good]), /zero\.csv: is a device/, 'compare /dev/zero');
  const fifoNet = join(dir, 'fifo-net');
  mkdirSync(fifoNet);
  execFileSync('mkfifo', [join(fifoNet, 'model.json')]);
  refused(cli(recommendArgs(join(fifoNet, 'model.json'), f.images)), /model\.json: is a FIFO/, 'recommend FIFO model.json');
  const images = join(dir, 'images');
  cpSync(f.images, images, { recursive: true });
  execFileSync('mkfifo', [join(images, 'hats', 'fifo.png')]);
  refused(cli(recommendArgs(f.model, images)), /fifo\.png: is a FIFO/, 'recommend FIFO image');
  writeFileSync(join(dir, 'study.yaml'), studyConfig(join(dir, 'fifo.csv')));
  refused(cli(['status', join(dir, 'study.yaml'), '--store', join(dir, 'store')]), /fifo\.csv: is a FIFO/, 'status FIFO dataset');
  storeUntouched();
});

test('defect 7: a network is validated completely before planning: layers, weight names and shapes', () => {
  const cases: [string, (json: ModelJson) => void, RegExp][] = [
    ['lstm', (j) => void (layer(j, 'mid_relu').class_name = 'LSTM'), /layer "mid_relu" is a LSTM layer, which defrost does not support/],
    ['lambda', (j) => void (layer(j, 'flat').class_name = 'Lambda'), /layer "flat" is a Lambda layer/],
    [
      'transposed',
      (j) => void (weight(j, 'features/kernel').shape = [8, 96]),
      /features\/kernel has shape \[8, 96\], but its layer needs \[96, 8\]/,
    ],
    ['renamed', (j) => void (weight(j, 'features/kernel').name = 'features/kernal'), /features\/kernal belongs to no layer/],
    ['negative', (j) => void (layer(j, 'features').config.units = -8), /layer "features" units is -8/],
  ];
  for (const [name, edit, message] of cases) assert.throws(() => readSourceModel(network(name, edit)), dataError(message), name);
  // Through the CLI: exit 2 before anything is planned, run or recorded.
  refused(cli(recommendArgs(network('lstm-cli', cases[0][1]), f.images)), /LSTM layer/, 'recommend LSTM');
  storeUntouched();
});

test('defect 8: a NaN or an Inf among the weights is refused, naming the weight', () => {
  for (const [name, value] of [
    ['nan', Number.NaN],
    ['inf', Number.POSITIVE_INFINITY],
  ] as const) {
    const model = network(name, (json, dir) => {
      const shard = join(dir, json.weightsManifest[0].paths[0]);
      const bytes = readFileSync(shard);
      bytes.writeFloatLE(value, 4 * (FEATURES_KERNEL_AT + 10));
      writeFileSync(shard, bytes);
    });
    assert.throws(() => readSourceModel(model), dataError(new RegExp(`weight features/kernel holds ${value}`)), name);
  }
});

test("defect 9: weight files never come from outside the model's folder", () => {
  const outside = join(f.dir, 'outside9');
  mkdirSync(outside, { recursive: true });
  const escaping = network('escape', (json, dir) => {
    cpSync(join(dir, json.weightsManifest[0].paths[0]), join(outside, 'secret.bin'));
    json.weightsManifest[0].paths = ['../../outside9/secret.bin'];
  });
  assert.throws(() => readSourceModel(escaping), dataError(/leads out of the model's folder/));
  const linked = network('linked', (json, dir) => {
    const shard = join(dir, json.weightsManifest[0].paths[0]);
    cpSync(shard, join(outside, 'shard.bin'));
    rmSync(shard);
    symlinkSync(join(outside, 'shard.bin'), shard);
  });
  assert.throws(() => readSourceModel(linked), dataError(/leads out of .*net.*linked/));
});

test('defect 10: a dangling link in an image folder, a huge --image-size, 1e9 units: exit 2 before any work', async () => {
  const images = join(f.dir, 'images10');
  cpSync(f.images, images, { recursive: true });
  symlinkSync(join(images, 'hats', 'no-such.png'), join(images, 'hats', 'dangling.png'));
  await assert.rejects(
    readFileDataset({ path: images }, { size: null, channels: null }),
    dataError(/dangling\.png: a symbolic link to nothing/),
  );
  refused(
    cli(recommendArgs(f.model, f.images, '--image-size', '20000x20000')),
    /--image-size: 20000x20000 pixels is more than/,
    'image size',
  );
  // 1e9 units with a (sparse) weight file of the matching size: refused on the count, nothing read.
  const huge = network('units', (json, dir) => {
    layer(json, 'features').config.units = 1e9;
    layer(json, 'probabilities').config.units = 3;
    weight(json, 'features/kernel').shape = [96, 1e9];
    weight(json, 'features/bias').shape = [1e9];
    weight(json, 'probabilities/kernel').shape = [1e9, 3];
    const shard = join(dir, json.weightsManifest[0].paths[0]);
    truncateSync(shard, 4 * (FEATURES_KERNEL_AT + 96e9 + 1e9 + 3e9 + 3));
  });
  const r = cli(recommendArgs(huge, f.images));
  refused(r, /more than the 100000000 allowed; raise the limit with DEFROST_MAX_NETWORK_PARAMS/, '1e9 units');
  storeUntouched();
});

test('the network rules hold for ONNX too (special files, size, NaN, the weight limit); either format is verified when read again', () => {
  const dir = join(f.dir, 'onnx27');
  mkdirSync(dir, { recursive: true });
  execFileSync('mkfifo', [join(dir, 'fifo.onnx')]);
  refused(cli(recommendArgs(join(dir, 'fifo.onnx'), f.images)), /fifo\.onnx: is a FIFO/, 'recommend FIFO .onnx');
  writeFileSync(join(dir, 'huge.onnx'), '');
  truncateSync(join(dir, 'huge.onnx'), 2 * 2 ** 30);
  assert.throws(() => readSourceModel(join(dir, 'huge.onnx')), dataError(/huge\.onnx: is 2048 MB, more than the 1024 MB/));
  const nan = editedFixture('mobile-opset13.onnx', (m) => {
    const bias = m.graph?.initializer?.find((t) => t.rawData && t.rawData.length >= 4 && t.dims?.length === 1);
    if (bias?.rawData) {
      const raw = Buffer.from(bias.rawData);
      raw.writeFloatLE(Number.NaN, 0);
      bias.rawData = raw;
    }
  });
  writeFileSync(join(dir, 'nan.onnx'), nan);
  assert.throws(() => readSourceModel(join(dir, 'nan.onnx')), dataError(/weight \S+ holds NaN \(value 0\); .* \(ONNX tensor "/));
  const resnet = join(dir, 'resnet8.onnx');
  writeFileSync(resnet, fixtureBytes('resnet8-opset13.onnx'));
  process.env.DEFROST_MAX_NETWORK_PARAMS = '1000';
  try {
    assert.throws(() => readSourceModel(resnet), dataError(/more than the 1000 allowed; raise the limit with DEFROST_MAX_NETWORK_PARAMS/));
  } finally {
    delete process.env.DEFROST_MAX_NETWORK_PARAMS;
  }
  // Checked, then replaced: the stages that read it again (import-source, fine-tune) refuse it.
  const model = readSourceModel(resnet);
  assert.equal(readSourceFiles(model)[0].length, fixtureBytes('resnet8-opset13.onnx').length);
  writeFileSync(resnet, fixtureBytes('resnet8-opset17.onnx'));
  assert.throws(
    () => readSourceFiles(model),
    (e: unknown) => e instanceof StageFailure && /changed since they were checked/.test(e.message),
  );
  // A model.json's weights, likewise.
  const layersModel = readSourceModel(network('reread'));
  const shard = layersModel.files[1];
  const bytes = readFileSync(shard);
  bytes.writeFloatLE(0.5, 0);
  writeFileSync(shard, bytes);
  assert.throws(
    () => readSourceFiles(layersModel),
    (e: unknown) => e instanceof StageFailure && /changed since they were checked/.test(e.message),
  );
  storeUntouched();
});

test('defect 11: integer labels beyond 2^53 stay distinct; 1 and 01 are one class, as documented', async () => {
  const dir = join(f.dir, 'labels11');
  mkdirSync(dir, { recursive: true });
  const rows = 6;
  writeFileSync(
    join(dir, 'features.npy'),
    encodeNpyArray(
      [rows, 2],
      new Float32Array(rows * 2).map((_, i) => i),
    ),
  );
  // int64 labels 2^53, 2^53 + 1, 2^53 + 2 (NumPy writes them as '<i8').
  const labels = Buffer.from(encodeNpyArray([rows], new Int32Array(rows)).toString('latin1').replace("'<i4'", "'<i8'"), 'latin1');
  const header = labels.length - rows * 4;
  const npy = Buffer.alloc(header + rows * 8);
  labels.copy(npy, 0, 0, header);
  for (let i = 0; i < rows; i++) npy.writeBigInt64LE(2n ** 53n + BigInt(i % 3), header + 8 * i);
  writeFileSync(join(dir, 'labels.npy'), npy);
  const fromNpy = await readFileDataset({ path: dir }, { size: null, channels: null });
  assert.deepEqual(fromNpy.train.classes, ['9007199254740992', '9007199254740993', '9007199254740994']);
  writeFileSync(join(dir, 'big.csv'), 'label,x\n9007199254740993,1\n9007199254740992,2\n9007199254740994,3\n9007199254740993,4\n');
  const fromCsv = await readFileDataset({ path: join(dir, 'big.csv') }, { size: null, channels: null });
  assert.deepEqual(fromCsv.train.classes, ['9007199254740992', '9007199254740993', '9007199254740994']);
  writeFileSync(join(dir, 'ones.csv'), 'label,x\n1,1\n01,2\n2,3\n');
  assert.deepEqual((await readFileDataset({ path: join(dir, 'ones.csv') }, { size: null, channels: null })).train.classes, ['1', '2']);
  assert.match(readFileSync(join(ROOT, 'docs', 'your-data.md'), 'utf8'), /`1`, `01` and `\+1` are one class/);
});

test('defect 12: CSV quoted as Python writes it ("x,y", doubled quotes, line breaks) is read', async () => {
  const dir = join(f.dir, 'csv12');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'quoted.csv');
  writeFileSync(file, 'label,"x, first",x2\r\n"a,b",1.5,"2"\r\n"say ""hi""",3,4\r\n"a,b",5,6\r\n"two\r\nlines",7,8\r\n');
  const data = await readFileDataset({ path: file }, { size: null, channels: null });
  assert.deepEqual(data.train.classes, ['a,b', 'say "hi"', 'two\r\nlines']);
  assert.deepEqual(Array.from(data.train.features), [1.5, 2, 3, 4, 5, 6, 7, 8]);
  writeFileSync(join(dir, 'open.csv'), 'label,x\n"a,1\n');
  await assert.rejects(
    readFileDataset({ path: join(dir, 'open.csv') }, { size: null, channels: null }),
    dataError(/line 2: a quoted field is not closed/),
  );
});

test('partial: a 3 GB CSV, a 2 GB model.json and a 30000x30000 image size are refused at once, naming the limit', () => {
  const dir = join(f.dir, 'large');
  mkdirSync(join(dir, 'net'), { recursive: true });
  writeFileSync(join(dir, 'big.csv'), 'label,x\n');
  truncateSync(join(dir, 'big.csv'), 3 * 2 ** 30);
  writeFileSync(join(dir, 'net', 'model.json'), '{');
  truncateSync(join(dir, 'net', 'model.json'), 2 * 2 ** 30 + 1);
  writeFileSync(
    join(dir, 'study.yaml'),
    studyConfig(join(dir, 'blobs.csv')).replace('  source_size:', '  images: {size: [30000, 30000]}\n  source_size:'),
  );
  writeBlobsCsv(join(dir, 'blobs.csv'), 10);
  const results: [string, Measured, RegExp][] = [
    [
      '3 GB CSV',
      cli(recommendArgs(f.model, join(dir, 'big.csv'))),
      /big\.csv: is 3072 MB, more than the 1024 MB .* raise the limit with DEFROST_MAX_INPUT_MB/,
    ],
    [
      '2 GB model.json',
      cli(recommendArgs(join(dir, 'net', 'model.json'), f.images)),
      /model\.json: is 2048 MB, more than the 1024 MB .*DEFROST_MAX_INPUT_MB/,
    ],
    ['30000x30000 (--image-size)', cli(recommendArgs(f.model, f.images, '--image-size', '30000x30000')), /DEFROST_MAX_IMAGE_PIXELS/],
    [
      '30000x30000 (task.images.size)',
      cli(['status', join(dir, 'study.yaml'), '--store', join(dir, 'store')]),
      /task\.images\.size.*DEFROST_MAX_IMAGE_PIXELS/s,
    ],
  ];
  for (const [label, r, message] of results) {
    refused(r, message, label);
    // Memory is what the refusal costs (node's own start included), whatever the machine's load.
    assert.ok(r.peakMb < 500, `${label}: ${r.peakMb.toFixed(0)} MB`);
  }
  storeUntouched();
});

test('partial: an image-folder symlink loop exits 2; an image size the network cannot take is refused before decoding', async () => {
  const images = join(f.dir, 'loop');
  cpSync(f.images, images, { recursive: true });
  symlinkSync(join(images, 'hats', 'b.png'), join(images, 'hats', 'a.png'));
  symlinkSync(join(images, 'hats', 'a.png'), join(images, 'hats', 'b.png'));
  await assert.rejects(readFileDataset({ path: images }, { size: null, channels: null }), dataError(/a loop of symbolic links/));
  refused(
    cli(recommendArgs(f.model, f.images, '--image-size', '4000x4000')),
    /--image-size 4000x4000: images of that size do not fit the network/,
    '4000x4000',
  );
  storeUntouched();
});

test('rule: user files are read only through input-file.ts (opened once, checked before reading)', () => {
  // The readers of datasets, networks and compare matrices, and the stages that call them.
  const offenders = sourceLines(
    ['stages/lib/formats', 'stages/lib/models/source-network', 'stages/lib/models/onnx', 'stages/data'],
    (f) => f === 'input-file.ts',
  )
    .filter((l) => /\b(readFileSync|readFile|createReadStream|openSync)\s*\(/.test(l.text))
    .map((l) => `${l.where}: ${l.text.trim()}`);
  assert.deepEqual(offenders, []);
});
