#!/usr/bin/env node
// The worked example of docs/your-data.md: "how many layers of my network should stay frozen
// for my images?", answered by `defrost recommend` from files alone.
//
//   1. a small defrost study on Fashion-MNIST classes 0-4 -> 5-9 (experiments/example-your-data.yaml)
//      trains the source network on classes 0-4 (and measures l* on the target the usual way);
//   2. the study's target pool (classes 5-9, a few hundred images) is written out as an image
//      folder of PNG files, one sub-folder per class: the "your data" of the example;
//   3. `defrost recommend` gets the source network's model.json and the image folder, and answers
//      by 5-fold cross-validation;
//   4. the recommendation is compared with the study's l* and plausible set.
//
// It also leaves, for experiments/example-source-model.yaml (a study with `source_model`), the
// source network at DIR/network/model.json and the study's target test set (classes 5-9) as a
// second image folder, DIR/test-images (docs/your-data.md).
//
// Usage: node scripts/example-your-data.mjs [--out DIR] [--jobs N] [--set key=value]... [--folds K]
//          [--protocols all|LIST] (passed on to recommend: which protocol, and at which setting)
// Needs `make setup` first (the built dist/ and the fashion-mnist package). Prints one JSON line
// last: {"recommend":{...},"study":{"l_star":..,"plausible":[..]},"seconds":..}.
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parse } from 'yaml';
import { $ } from 'zx';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? ['--set', a] : []));
const out = resolve(option('--out', 'example-your-data'));
const jobs = option('--jobs', '2');
const folds = option('--folds', '5');
const protocols = option('--protocols', null);
const config = join(root, 'experiments', 'example-your-data.yaml');
const store = join(out, 'store');
const started = performance.now();

/** `defrost ARGS`, its stderr on the terminal; a failure ends the example with defrost's exit code. */
async function defrost(cliArgs) {
  const r = await $({ stdio: ['ignore', 'pipe', 'inherit'], nothrow: true })`${process.execPath} ${join(root, 'bin', 'defrost.js')} ${cliArgs}`;
  if (r.exitCode !== 0) {
    process.stderr.write(r.stdout);
    process.stderr.write(`example: defrost ${cliArgs[0]} exited ${r.exitCode}\n`);
    process.exit(r.exitCode ?? 1);
  }
  const lines = r.stdout.trim().split('\n');
  return { text: r.stdout, json: () => JSON.parse(lines[lines.length - 1]) };
}

// 1. The study: source network on classes 0-4, transfer sweep on classes 5-9.
process.stderr.write(`example: 1/3 the study ${config} (store ${store})\n`);
await defrost(['run', config, '--store', store, '--jobs', jobs, '--json', ...sets]);
const { instances } = (await defrost(['status', config, '--store', store, '--json', ...sets])).json();
const source = instances.find((i) => i.id === 'train-source[seed=0]');
const target = instances.find((i) => i.id === 'generate-data[role=target]');
if (!source?.cached || !target?.cached) throw new Error('example: the study published no source network or target data');
const storeDir = (p) => join(store, p.stage, p.key);

// 2. The target pool as an image folder: <class name>/<row>.png, 8-bit grey (lossless).
process.stderr.write('example: 2/3 writing the target images as PNG files\n');
const { readDataset } = await import(join(root, 'dist', 'stages', 'lib', 'tables', 'dataset-table.js'));
async function writeImageFolder(table, folder) {
  rmSync(folder, { recursive: true, force: true });
  const [height, width, channels] = table.shape;
  const size = height * width * channels;
  for (let row = 0; row < table.rows; row++) {
    const dir = join(folder, table.classes[table.labels[row]]);
    mkdirSync(dir, { recursive: true });
    const pixels = Buffer.from(Array.from(table.features.subarray(row * size, (row + 1) * size), (v) => Math.round(v * 255)));
    await sharp(pixels, { raw: { width, height, channels } })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .png()
      .toFile(join(dir, `${String(row).padStart(4, '0')}.png`));
  }
}
const pool = readDataset(join(storeDir(target), 'train.arrow'));
const images = join(out, 'images');
await writeImageFolder(pool, images);
process.stderr.write(`example: ${pool.rows} images of ${pool.classes.length} classes in ${images}\n`);
// For experiments/example-source-model.yaml: the study's target test images and the source network.
await writeImageFolder(readDataset(join(storeDir(target), 'test.arrow')), join(out, 'test-images'));
rmSync(join(out, 'network'), { recursive: true, force: true });
cpSync(join(storeDir(source), 'model'), join(out, 'network'), { recursive: true });

// 3. The recommendation from the files alone.
const model = join(storeDir(source), 'model', 'model.json');
// The study's training recipe (with its --set train.* overrides) is recommend's too.
const flatten = (prefix, value) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => flatten(`${prefix}.${k}`, v))
    : [`${prefix}=${JSON.stringify(value)}`];
const recipe = [
  ...flatten('train', parse(readFileSync(config, 'utf8')).train ?? {}),
  ...sets.filter((s, i) => i % 2 === 1 && s.startsWith('train.')),
].flatMap((s) => ['--set', s]);
const protocolArgs = protocols === null ? [] : ['--protocols', protocols];
process.stderr.write(`example: 3/3 defrost recommend --model ${model} --data ${images} ${protocolArgs.join(' ')}\n`);
const recommend = (
  await defrost(['recommend', '--model', model, '--data', images, '--folds', folds, '--store', store, '--jobs', jobs, '--json', ...protocolArgs, ...recipe])
).json();

// 4. The study's answer on the same target pool.
const report = (await defrost(['report', config, '--store', store, '--json', ...sets])).json();
const cell = report.cells.find((c) => c.mode === 'defrost') ?? report.cells[0];
const study = { l_star: cell.l_star, plausible: cell.plausible };
const seconds = Math.round((performance.now() - started) / 100) / 10;
process.stderr.write(
  `example: recommend says l* = ${recommend.l_star} (plausible ${JSON.stringify(recommend.plausible)}); ` +
    `the study says l* = ${study.l_star} (plausible ${JSON.stringify(study.plausible)}); ` +
    `${study.plausible.includes(recommend.l_star) ? 'the recommendation is in the study\'s plausible set' : 'the recommendation is NOT in the study\'s plausible set'}; ` +
    (recommend.protocol === undefined ? '' : `best protocol: ${recommend.protocol.mode} ${recommend.protocol.symbol}=${recommend.protocol.setting}; `) +
    `${seconds} s\n`,
);
process.stdout.write(`${JSON.stringify({ recommend, study, seconds })}\n`);
