/**
 * Issue 27, the fuzz test over user inputs (docs/reliability.md, "Your files"): more than 1,000
 * mutated files — CSV, npy (features and labels), PNG in an image folder, model.json and its
 * weights, run records — from a fixed seed go through the readers in-process, and a few through
 * the CLI. Each must be read or refused with a typed exit-2 error (never anything else, never a
 * stack trace), within 30 s, and nothing outside the store may change (a sentinel tree's
 * snapshot). In-process calls keep it fast: the whole file runs in seconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { BIN } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';
import { DefrostError } from '../pipeline/errors.js';
import { readRunRecords } from '../pipeline/run-records.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { readMatrix } from '../stages/lib/formats/matrix-io.js';
import { readFileDataset } from '../stages/lib/formats/read.js';
import { deriveBlocks, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { Rng } from '../stages/lib/random.js';

const rng = new Rng(27, 'input-fuzz');
let dir: string;
let sentinel: string;
const snapshot = (): string =>
  execFileSync('sh', ['-c', `cd '${sentinel}' && find . -printf '%p %y %s %T@\\n' | sort`], { encoding: 'utf8' });
let sentinelBefore: string;

before(() => {
  dir = scratchDir('input-fuzz');
  sentinel = join(dir, 'sentinel');
  mkdirSync(join(sentinel, 'notes', '0123456789abcdef'), { recursive: true });
  writeFileSync(join(sentinel, 'thesis.tex'), '\\chapter{One}\n');
  writeFileSync(join(sentinel, 'notes', '0123456789abcdef', 'draft.txt'), 'keep me\n');
  sentinelBefore = snapshot();
});
after(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Mutations: byte-level and, for JSON, structure-level, all drawn from the fixed seed.

const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)];
const NASTY: readonly unknown[] = [
  '',
  -1,
  0,
  2.5,
  1e9,
  1e308,
  -1e308,
  null,
  true,
  'x',
  'NaN',
  [],
  {},
  2 ** 53 + 2,
  '../../etc/passwd',
  [1e9, 1e9],
  [-3, 0],
];
const NASTY_TEXT = [
  '"',
  '""',
  ',',
  '\n',
  '\r\n',
  '"a,b"',
  'nan',
  'inf',
  '-inf',
  '1e400',
  '\u0000',
  '\u001b[2J',
  '01',
  '9007199254740993',
  ' '.repeat(50),
  'é',
];

function mutateBytes(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  switch (rng.int(6)) {
    case 0: // flip bits
      for (let k = 0, n = 1 + rng.int(8); k < n && out.length > 0; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    case 1: // truncate
      return out.subarray(0, rng.int(out.length + 1));
    case 2: {
      // insert random bytes
      const at = rng.int(out.length + 1);
      const junk = Buffer.from(Array.from({ length: 1 + rng.int(32) }, () => rng.int(256)));
      return Buffer.concat([out.subarray(0, at), junk, out.subarray(at)]);
    }
    case 3: {
      // duplicate a chunk
      const from = rng.int(out.length + 1);
      const to = Math.min(out.length, from + rng.int(64));
      return Buffer.concat([out.subarray(0, to), out.subarray(from, to), out.subarray(to)]);
    }
    case 4: {
      // overwrite a run with one byte value (0x00, 0xff, '"', ',')
      const at = rng.int(out.length + 1);
      out.fill(pick([0x00, 0xff, 0x22, 0x2c, 0x0a]), at, Math.min(out.length, at + 1 + rng.int(16)));
      return out;
    }
    default: // empty
      return Buffer.alloc(0);
  }
}

function mutateText(text: string): string {
  if (rng.uniform() < 0.5) return mutateBytes(Buffer.from(text)).toString('latin1');
  const at = rng.int(text.length + 1);
  return text.slice(0, at) + pick(NASTY_TEXT) + text.slice(at + rng.int(4));
}

/** A JSON value with one node replaced, removed or retyped. */
function mutateJson(value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((item, i) => (nodes.push({ parent: v, key: i }), walk(item)));
    else if (v !== null && typeof v === 'object')
      for (const [k, item] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: k });
        walk(item);
      }
  };
  walk(copy);
  for (let n = 1 + rng.int(3); n > 0 && nodes.length > 0; n--) {
    const { parent, key } = pick(nodes);
    const replacement = JSON.parse(JSON.stringify(pick(NASTY))) as unknown;
    if (rng.uniform() < 0.2 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else (parent as Record<string | number, unknown>)[key] = replacement;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// The outcome of one case: read (0) or refused with a typed exit-2 error (2); anything else fails.

const failures: string[] = [];
let cases = 0;
async function expectReadOrRefused(label: string, read: () => unknown): Promise<0 | 2 | null> {
  cases++;
  const started = Date.now();
  try {
    await read();
    return 0;
  } catch (error) {
    if (error instanceof DefrostError && error.exitCode === 2) return 2;
    failures.push(`${label}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`.slice(0, 600));
    return null;
  } finally {
    if (Date.now() - started > 30_000) failures.push(`${label}: took ${Date.now() - started} ms`);
  }
}

const CSV = 'label,x0,x1,x2\na,0.5,1,2\nb,1.5,-2,3e-3\n"a",2,3,4\nb,5,6,"7"\n';
const NO_IMAGES = { size: null, channels: null } as const;

test('CSV: 250 mutated files are read or refused (exit 2), nothing else', async () => {
  const file = join(dir, 'data.csv');
  for (let i = 0; i < 250; i++) {
    writeFileSync(file, mutateText(CSV));
    await expectReadOrRefused(`csv ${i}`, () => readFileDataset({ path: file }, NO_IMAGES));
    if (i % 5 === 0) await expectReadOrRefused(`csv matrix ${i}`, () => readMatrix(file));
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('csv')),
    [],
  );
});

test('npy: 200 mutated features and labels files are read or refused', async () => {
  const npy = join(dir, 'npy');
  mkdirSync(npy, { recursive: true });
  const features = encodeNpyArray(
    [6, 2, 2],
    Float32Array.from({ length: 24 }, (_, i) => i / 7),
  );
  const labels = encodeNpyArray([6], Int32Array.from([0, 1, 2, 0, 1, 2]));
  for (let i = 0; i < 200; i++) {
    const which = i % 2 === 0 ? 'features' : 'labels';
    writeFileSync(join(npy, 'features.npy'), which === 'features' ? mutateBytes(features) : features);
    writeFileSync(join(npy, 'labels.npy'), which === 'labels' ? mutateBytes(labels) : labels);
    await expectReadOrRefused(`npy ${which} ${i}`, () => readFileDataset({ path: npy }, NO_IMAGES));
    if (which === 'features') await expectReadOrRefused(`npy matrix ${i}`, () => readMatrix(join(npy, 'features.npy')));
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('npy')),
    [],
  );
});

test('PNG: 150 mutated images in an image folder are decoded or refused', async () => {
  const images = join(dir, 'images');
  const png = await sharp(Buffer.from(Array.from({ length: 64 }, (_, k) => (k * 37) % 256)), { raw: { width: 8, height: 8, channels: 1 } })
    .png()
    .toBuffer();
  for (const c of ['cats', 'dogs']) {
    mkdirSync(join(images, c), { recursive: true });
    for (const n of [1, 2]) writeFileSync(join(images, c, `${n}.png`), png);
  }
  for (let i = 0; i < 150; i++) {
    writeFileSync(join(images, 'dogs', '3.png'), mutateBytes(png));
    await expectReadOrRefused(`png ${i}`, () => readFileDataset({ path: images }, i % 3 === 0 ? { size: [4, 4], channels: 3 } : NO_IMAGES));
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('png')),
    [],
  );
});

/** A two-layer dense network in TensorFlow.js's layers format, written by hand. */
function writeNetwork(folder: string): { json: unknown; weights: Buffer } {
  const json = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'fuzz',
        layers: [
          { class_name: 'Dense', config: { name: 'hidden', units: 4, activation: 'relu', use_bias: true, batch_input_shape: [null, 3] } },
          { class_name: 'Dropout', config: { name: 'drop', rate: 0.1 } },
          { class_name: 'Dense', config: { name: 'out', units: 2, activation: 'softmax', use_bias: true } },
        ],
      },
    },
    weightsManifest: [
      {
        paths: ['w.bin'],
        weights: [
          { name: 'hidden/kernel', shape: [3, 4], dtype: 'float32' },
          { name: 'hidden/bias', shape: [4], dtype: 'float32' },
          { name: 'out/kernel', shape: [4, 2], dtype: 'float32' },
          { name: 'out/bias', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  const weights = Buffer.from(Float32Array.from({ length: 12 + 4 + 8 + 2 }, (_, i) => (i % 5) / 10 - 0.2).buffer);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
  writeFileSync(join(folder, 'w.bin'), weights);
  return { json, weights };
}

test('networks: 250 mutated model.json and weight files are validated or refused', async () => {
  const folder = join(dir, 'net');
  const { json, weights } = writeNetwork(folder);
  assert.equal(await expectReadOrRefused('network base', () => readSourceModel(join(folder, 'model.json'))), 0);
  for (let i = 0; i < 250; i++) {
    const byJson = i % 5 !== 4;
    writeFileSync(
      join(folder, 'model.json'),
      byJson ? (i % 3 === 0 ? mutateText(JSON.stringify(json)) : JSON.stringify(mutateJson(json))) : JSON.stringify(json),
    );
    writeFileSync(join(folder, 'w.bin'), byJson ? weights : mutateBytes(weights));
    await expectReadOrRefused(`network ${i}`, () => {
      const model = readSourceModel(join(folder, 'model.json'));
      return deriveBlocks(folder, model.topology, null);
    });
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('network')),
    [],
  );
});

test('run records: 200 mutated records are read as valid or listed as damaged, never thrown', async () => {
  const store = join(dir, 'store');
  const records = join(store, '.run-records');
  mkdirSync(records, { recursive: true });
  const id = '20261206-050656-298e';
  const record = {
    id,
    name: 'fuzz',
    date: '2026-12-06T05:06:56.123Z',
    config: 'study.yaml',
    config_path: '/x/study.yaml',
    overrides: ['a.b=1'],
    config_hash: '0123456789abcdef',
    params: { a: { b: 1 }, list: [1, 2] },
    version: '0.1.0',
    commit: null,
    backend: 'wasm',
    executor: 'local',
    jobs: 2,
    threads: 1,
    status: 'finished',
    stages: 2,
    executed: 2,
    cached: 0,
    failed: 0,
    skipped: 0,
    executed_by_stage: { sum: 1 },
    wall_s: 1.5,
    answer: { 'l*': 1 },
    instances: ['sum/0123456789abcdef'],
    executed_instances: ['sum/0123456789abcdef'],
  };
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(records, `${id}.json`), i % 2 === 0 ? JSON.stringify(mutateJson(record)) : mutateText(JSON.stringify(record)));
    await expectReadOrRefused(`run record ${i}`, () => {
      const read = readRunRecords(store);
      assert.equal(read.records.length + read.damaged.length, 1);
    });
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('run record')),
    [],
  );
});

test('through the CLI: mutated inputs end with exit 0 or 2, no stack trace, within 30 s; nothing outside the store changes', () => {
  const cli = join(dir, 'cli');
  mkdirSync(cli, { recursive: true });
  const net = join(cli, 'net');
  const { json } = writeNetwork(net);
  const store = join(cli, 'store');
  cpSync(join(dir, 'store'), store, { recursive: true });
  const run = (args: readonly string[]): void => {
    cases++;
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: cli,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' },
    });
    if (r.status !== 0 && r.status !== 2) failures.push(`cli ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(0, 400)}`);
    if (/internal error|\n\s+at \S+ \(/.test(r.stderr)) failures.push(`cli ${args.join(' ')}: stack trace: ${r.stderr.slice(0, 400)}`);
  };
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(cli, 'a.csv'), mutateText('1,2,3\n4,5,6\n7,8,9\n'));
    run(['compare', join(cli, 'a.csv'), join(cli, 'a.csv'), '--measures', 'cka']);
    writeFileSync(join(net, 'model.json'), JSON.stringify(mutateJson(json)));
    run(['recommend', '--model', join(net, 'model.json'), '--data', join(dir, 'images'), '--store', store, '--set', 'train.epochs=1']);
    run(['runs', 'show', 'last', '--store', store]);
  }
  assert.deepEqual(
    failures.filter((f) => f.startsWith('cli')),
    [],
  );
  assert.ok(cases >= 1000, `${cases} cases`);
  assert.equal(snapshot(), sentinelBefore, 'something outside the store changed');
});
