/**
 * The work of the `generate-data` stage: turns its params (built by `plan.ts`: `sourceDataParams`,
 * `targetDataParams`) into `train.arrow` and `test.arrow`. Kept apart from the stage module so the
 * scheduler never loads apache-arrow; the stage imports this module inside `run`.
 *
 * Conventions (docs/data.md):
 * - label noise replaces training labels only (train.arrow, i.e. the source training set and the
 *   target pool); test labels stay clean, so test accuracy measures the rule itself (the
 *   convention of the reference paper);
 * - input noise is part of the input distribution: added to train and test inputs alike;
 * - `validation.arrow` (`task.validation_size` rows: what runs stop on) and, for a target,
 *   `selection.arrow` (`task.selection_size` rows: what l* is chosen on) are drawn like the
 *   training data (same distribution, label noise included: they stand for the held-out labelled
 *   data a user would have) and are disjoint from each other and from the pool and the test set:
 *   synthetic tasks draw each from its own random stream, image tasks take them from the
 *   training split right after the pool (docs/protocol.md);
 * - the target pool is written in stratified order (image tasks) or as i.i.d. draws (synthetic
 *   tasks, whose classes are what the teacher gives); each seed trains on the first n rows of its
 *   own random order of the pool (stages/lib/tasks/subsets.ts).
 */
import { join } from 'node:path';
import { datasetLabel, fileSpecOf } from '../lib/formats/read.js';
import type { JsonObject } from '../../pipeline/stage.js';
import type { GenerateDataStageParams } from './generate-data.js';
import { writeDataset, type DatasetToWrite } from '../lib/tables/dataset-table.js';
import { Rng } from '../lib/random.js';
import { loadFileClassSubset } from './file-data.js';
import { loadClassSubset, type ClassSamples, type ClassSubsetImages } from './image-data.js';
import { classNamesOf } from './image-catalog.js';
import { classBalance, stratifiedOrder } from '../lib/tasks/stratified.js';
import { generateSyntheticSet, sourceTeacher, targetTeacher, applyLabelNoise, type SyntheticShape } from '../lib/tasks/synthetic.js';

/** The params of one `generate-data` instance: the output type of the stage's schema (`generate-data.ts`). */
export type GenerateDataParams = GenerateDataStageParams;
type TaskParams = GenerateDataParams['task'];
/** The synthetic task as a source or a target instance reads it. */
export type SyntheticTaskParams = Extract<TaskParams, { kind: 'synthetic' }>;
/** The image task (class subsets) as a source or a target instance reads it. */
export type ImageTaskParams = Extract<TaskParams, { kind: 'image' }>;
/** One side's class subset (`task.source` or `task.target` of the schema). */
type ClassSubsetParams = Extract<ImageTaskParams, { source: unknown }>['source'];

/** Rows of the source training set or of the target pool. */
function trainRowsOf(params: GenerateDataParams): number {
  return params.role === 'source' ? params.task.source_size : params.task.target_pool;
}

/** What the stage reports (manifest summary). */
export interface GenerateSummary extends JsonObject {
  role: string;
  train_rows: number;
  validation_rows: number;
  /** 0 for a source task (nothing is chosen on source data). */
  selection_rows: number;
  test_rows: number;
  dim: number;
  shape: number[];
  classes: string[];
  /** Fraction of each class in train.arrow / test.arrow. */
  train_balance: number[];
  test_balance: number[];
}

function rounded(values: number[]): number[] {
  return values.map((v) => Math.round(v * 1e4) / 1e4);
}

interface Split {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

/** A RangeError (a user-facing data problem) naming the first non-finite feature of a split. */
function checkFinite(split: Split, shape: number[], where: string, inputNoise: number): void {
  const width = shape.reduce((a, b) => a * b, 1);
  const f = split.features;
  for (let t = 0; t < f.length; t++) {
    if (Number.isFinite(f[t])) continue;
    const cause = inputNoise > 0 ? `; task.input_noise = ${inputNoise} is too large for float32 features (keep it well below 3.4e38)` : '';
    throw new RangeError(
      `the ${where} features hold a non-finite value (${f[t]}) at row ${Math.floor(t / width)}, feature ${t % width}${cause}`,
    );
  }
}

/** Writes both tables and returns the summary. */
function writeSplits(
  outDir: string,
  params: GenerateDataParams,
  shape: number[],
  classes: string[],
  dataset: string,
  train: Split,
  validation: Split,
  selection: Split | null,
  test: Split,
): GenerateSummary {
  const provenance = (split: string, labelNoise: boolean): JsonObject => ({
    generator: 'defrost generate-data',
    dataset,
    role: params.role,
    split,
    label_noise_applied: labelNoise,
    params,
  });
  const table = (split: Split, name: string, noisy: boolean): DatasetToWrite => ({
    ...split,
    shape,
    classes,
    provenance: provenance(name, noisy),
  });
  // Never train on Inf or NaN: say where the first one is and what likely produced it.
  for (const [name, split] of [
    [params.role === 'source' ? 'train' : 'pool', train],
    ['test', test],
  ] as const)
    checkFinite(split, shape, `${params.role} ${name}`, params.task.input_noise);
  writeDataset(join(outDir, 'train.arrow'), table(train, params.role === 'source' ? 'train' : 'pool', params.task.label_noise > 0));
  writeDataset(join(outDir, 'validation.arrow'), table(validation, 'validation', params.task.label_noise > 0));
  if (selection !== null) writeDataset(join(outDir, 'selection.arrow'), table(selection, 'selection', params.task.label_noise > 0));
  writeDataset(join(outDir, 'test.arrow'), table(test, 'test', false));
  return {
    role: params.role,
    train_rows: train.rows,
    validation_rows: validation.rows,
    selection_rows: selection?.rows ?? 0,
    test_rows: test.rows,
    dim: shape.reduce((a, b) => a * b, 1),
    shape,
    classes,
    train_balance: rounded(classBalance(train.labels, classes.length)),
    test_balance: rounded(classBalance(test.labels, classes.length)),
  };
}

function generateSynthetic(outDir: string, params: GenerateDataParams, task: SyntheticTaskParams): GenerateSummary {
  const shape: SyntheticShape = {
    latentDim: task.latent_dim,
    inputDim: task.input_dim,
    teacherHidden: task.teacher_hidden,
    classes: task.classes,
  };
  const isSource = params.role === 'source';
  // Only a target's task carries the correlations (the schema of generate-data.ts).
  const teacher =
    'feature_correlation' in task
      ? targetTeacher(params.seed, shape, task.feature_correlation, task.rule_correlation)
      : sourceTeacher(params.seed, shape);
  const trainRows = trainRowsOf(params);
  // Target latents do not depend on the correlation: every target of a sweep shares them, so the
  // correlation is the only thing that differs between two targets.
  const train = generateSyntheticSet(params.seed, teacher, {
    rows: trainRows,
    stream: isSource ? 'source/train' : 'target/pool',
    labelNoise: task.label_noise,
    inputNoise: task.input_noise,
  });
  const validation = generateSyntheticSet(params.seed, teacher, {
    rows: task.validation_size,
    stream: isSource ? 'source/validation' : 'target/validation',
    labelNoise: task.label_noise,
    inputNoise: task.input_noise,
  });
  // A separate stream: adding the selection set changed no byte of the other tables.
  const selection =
    'selection_size' in task
      ? generateSyntheticSet(params.seed, teacher, {
          rows: task.selection_size,
          stream: 'target/selection',
          labelNoise: task.label_noise,
          inputNoise: task.input_noise,
        })
      : null;
  const test = generateSyntheticSet(params.seed, teacher, {
    rows: task.test_size,
    stream: isSource ? 'source/test' : 'target/test',
    labelNoise: 0,
    inputNoise: task.input_noise,
  });
  const classes = Array.from({ length: task.classes }, (_, c) => `class ${c}`);
  return writeSplits(outDir, params, [task.input_dim], classes, 'synthetic', train, validation, selection, test);
}

/**
 * `total` samples in stratified nested order, labelled by class position. Bytes (the built-in
 * datasets) are scaled to [0, 1]; float features (`files:` data) are kept as they are.
 */
function sampleImages(byClass: readonly ClassSamples[], pixels: number, total: number, rng: Rng, inputNoise: number): Split {
  const picks = stratifiedOrder(
    byClass.map((c) => c.count),
    total,
    rng.fork('order'),
  );
  const features = new Float32Array(total * pixels);
  const labels = new Int32Array(total);
  const noise = rng.fork('input-noise');
  picks.forEach((pick, row) => {
    const src = byClass[pick.classIndex].images;
    const scale = src instanceof Uint8Array ? 1 / 255 : 1;
    const from = pick.item * pixels;
    const to = row * pixels;
    for (let j = 0; j < pixels; j++) features[to + j] = src[from + j] * scale;
    if (inputNoise > 0) for (let j = 0; j < pixels; j++) features[to + j] += inputNoise * noise.normal();
    labels[row] = pick.classIndex;
  });
  return { features, labels, rows: total };
}

/** Rows [from, to) of a split. */
function sliceSplit(split: Split, pixels: number, from: number, to: number): Split {
  return { features: split.features.slice(from * pixels, to * pixels), labels: split.labels.slice(from, to), rows: to - from };
}

/** The class subset of the instance's role: a source task carries `source`, a target task `target`. */
function subsetOf(task: ImageTaskParams): ClassSubsetParams {
  return 'source' in task ? task.source : task.target;
}

/**
 * The samples of a `files:` dataset this instance needs (read asynchronously: image folders are
 * decoded by sharp), or undefined for every other dataset. Pass the result to `generateData`.
 */
export async function loadFileSamples(params: GenerateDataParams): Promise<ClassSubsetImages | undefined> {
  const task = params.task;
  if (task.kind !== 'image') return undefined;
  const subset = subsetOf(task);
  const spec = fileSpecOf(subset.dataset);
  return spec === null ? undefined : loadFileClassSubset(spec, subset.classes, params.images, params.data_sha256 ?? null);
}

/** A RangeError naming the dataset when a split holds fewer samples than the config asks for. */
function checkEnough(split: readonly ClassSamples[], wanted: number, what: string, subset: ClassSubsetParams): void {
  const held = split.reduce((a, c) => a + c.count, 0);
  if (wanted > held)
    throw new RangeError(
      `${datasetLabel(subset.dataset)} classes ${JSON.stringify(subset.classes)} hold ${held} ${what} samples, but the config asks for ${wanted}; lower the sizes or bring more data`,
    );
}

function generateImage(outDir: string, params: GenerateDataParams, task: ImageTaskParams, files?: ClassSubsetImages): GenerateSummary {
  const isSource = params.role === 'source';
  const subset = subsetOf(task);
  const trainRows = trainRowsOf(params);
  const label = datasetLabel(subset.dataset);
  // A train/test pair is files: `files` holds its samples (loadFileSamples).
  const images = files ?? loadClassSubset(label, subset.classes);
  const selectionRows = 'selection_size' in task ? task.selection_size : 0;
  const heldRows = task.validation_size + selectionRows;
  checkEnough(
    images.train,
    trainRows + heldRows,
    `training (${isSource ? 'source_size + validation_size' : 'target_pool + validation_size + selection_size'})`,
    subset,
  );
  checkEnough(images.test, task.test_size, 'test (test_size)', subset);
  const pixels = images.shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(params.seed, 'image-data').fork(`${params.role}/${label}`);
  const trainRng = rng.fork(isSource ? 'train' : 'pool');
  // One stratified order over the training split: the pool is its first rows (as before), the
  // validation set the rows right after, then the selection set, so no two share an image.
  const drawn = sampleImages(images.train, pixels, trainRows + heldRows, trainRng, task.input_noise);
  applyLabelNoise(drawn.labels, task.label_noise, subset.classes.length, trainRng.fork('label-noise'));
  const train = sliceSplit(drawn, pixels, 0, trainRows);
  const validation = sliceSplit(drawn, pixels, trainRows, trainRows + task.validation_size);
  const selection = isSource ? null : sliceSplit(drawn, pixels, trainRows + task.validation_size, trainRows + heldRows);
  const test = sampleImages(images.test, pixels, task.test_size, rng.fork('test'), task.input_noise);
  const names = images.classNames ?? classNamesOf(label, subset.classes);
  return writeSplits(outDir, params, images.shape, names, label, train, validation, selection, test);
}

/** Generates the instance's datasets into `outDir` (`files:` data: `files` from `loadFileSamples`). */
export function generateData(outDir: string, params: GenerateDataParams, files?: ClassSubsetImages): GenerateSummary {
  const task = params.task;
  return task.kind === 'synthetic' ? generateSynthetic(outDir, params, task) : generateImage(outDir, params, task, files);
}
