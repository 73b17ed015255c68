/**
 * Checks what `defrost recommend` is given before anything runs (docs/your-data.md): the network
 * (model.json and weights readable, a chain with dense/conv blocks), the depths and modes, the
 * data (every file decoded and checked), that the data fits the network's input, and that every
 * class has a sample in each fold. Any problem is a usage error (exit 2) naming the file or the
 * option; the store is not touched. Returns the request with the fingerprints that key the run.
 */
import { resolve } from 'node:path';
import { ConfigError, UsageError } from '../../pipeline/errors.js';
import { z } from 'zod';
import { applySet, zodIssuesToConfigIssues, type ZodIssueLike } from '../../pipeline/config-loader.js';
import { nearestName, unknownName } from '../../pipeline/nearest-name.js';
import { trainSchema, type TrainConfig } from '../lib/models/recipe.js';
import {
  DEFAULT_TRANSFER_MODE,
  PROTOCOLS,
  TRANSFER_MODES,
  transferModeOf,
  type TransferMode,
} from '../lib/models/transfer-modes/registry.js';
import { classCounts, FEW_PER_CLASS, smallestFoldParts } from '../lib/tasks/folds.js';
import { inputStatsOf, rangeNote, readInputStats } from '../lib/models/input-stats.js';
import { fileFormatOf, readFileDataset } from '../lib/formats/read.js';
import { imageSizeProblem } from '../lib/formats/read-images.js';
import type { ImageOptions } from '../lib/formats/read-images.js';
import {
  deriveBlocks,
  fingerprintSourceModel,
  inputShapeFits,
  networkImageOptions,
  readSourceModel,
} from '../lib/models/source-network/topology.js';
import { onnxWriteProblem } from '../lib/models/source-network/onnx-writer.js';
import { DataFileError } from '../lib/formats/problem.js';
import type { RecommendRequest } from './plan.js';

/** The command line's options, as text. */
export interface RecommendOptions {
  readonly model: string;
  readonly data: string;
  readonly folds?: string;
  readonly modes?: string;
  /** `all` (every protocol beyond the prefix modes) or a comma-separated list of modes. */
  readonly protocols?: string;
  readonly depths?: string;
  readonly seed?: string;
  readonly imageSize?: string;
  readonly channels?: string;
  readonly sourceBlocks?: string;
  readonly labelColumn?: string;
  readonly set?: readonly string[];
  /** `--save-model DIR`: the network must then be one the model out can write (checked here). */
  readonly saveModel?: string;
}

function wholeNumber(option: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${option}: got ${JSON.stringify(text)}; allowed: a whole number >= ${min}`);
  return n;
}

function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The fewest optimizer steps recommend's budget holds unless `--set train.min_steps` says otherwise
 * (docs/protocol.md#recommend-at-small-n): with a few dozen samples per fold an epoch is one or two
 * steps, and a budget in epochs ended every readout-only fold run of the worked example before it
 * stopped improving.
 */
export const RECOMMEND_MIN_STEPS = 2000;

/**
 * `--set train.key=value` overrides on recommend's recipe: the study's defaults, except that early
 * stopping watches the validation loss (a fold's stopping split holds a few samples per class,
 * whose accuracy moves in coarse steps and ties at once; l* is still chosen on held-out accuracy)
 * and the budget holds at least `RECOMMEND_MIN_STEPS` steps (docs/protocol.md#recommend-at-small-n).
 * A bad key or value gets the message `run` gives for the same mistake: the key, the value, what
 * is allowed and the nearest known key.
 */
function trainRecipe(sets: readonly string[]): TrainConfig {
  const raw: Record<string, unknown> = { train: { min_steps: RECOMMEND_MIN_STEPS, early_stopping: { monitor: 'val_loss' } } };
  for (const assignment of sets) {
    if (!assignment.startsWith('train.')) {
      const key = assignment.split('=')[0] ?? assignment;
      const near = nearestName(
        key,
        Object.keys(trainSchema.shape).map((k) => `train.${k}`),
      );
      throw new UsageError(
        `--set ${assignment}: recommend takes only train.* keys (the training recipe)${near === null ? '' : `; did you mean ${near}?`}; e.g. --set train.learning_rate=0.003`,
      );
    }
    applySet(raw, assignment);
  }
  const schema = z.strictObject({ train: trainSchema });
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      zodIssuesToConfigIssues(schema, raw, parsed.error.issues as unknown as ZodIssueLike[]),
      `recommend --set ${sets.join(' --set ')}`,
    );
  return parsed.data.train;
}

function imageOptions(options: RecommendOptions, inputShape: readonly number[]): ImageOptions {
  let { size, channels } = networkImageOptions(inputShape);
  if (options.imageSize !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(options.imageSize);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
      throw new UsageError(`--image-size: got ${JSON.stringify(options.imageSize)}; allowed: HEIGHTxWIDTH, e.g. 28x28`);
    size = [Number(m[1]), Number(m[2])];
    const problem = imageSizeProblem(size);
    if (problem !== null) throw new UsageError(`--image-size: ${problem}`);
  }
  if (options.channels !== undefined) {
    if (options.channels !== '1' && options.channels !== '3')
      throw new UsageError(`--channels: got ${JSON.stringify(options.channels)}; allowed: 1 or 3`);
    channels = options.channels === '1' ? 1 : 3;
  }
  return { size, channels };
}

/** `--source-blocks JSON`: lists of layer names, or null when not given. */
export function parseSourceBlocks(text: string | undefined): string[][] | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || !value.every((g) => Array.isArray(g) && g.every((n) => typeof n === 'string')))
      throw new Error('not a list of lists');
    return value as string[][];
  } catch {
    throw new UsageError(
      `--source-blocks: got ${JSON.stringify(text)}; allowed: JSON lists of layer names, e.g. [["conv1","pool1"],["dense1"]]`,
    );
  }
}

export interface PreparedRecommend {
  readonly request: RecommendRequest;
  readonly depths: number[];
  /**
   * Said before anything runs: the data's range against the network's training inputs
   * (input-stats.ts), and a fold part too small to rank checks or depths.
   */
  readonly notes: string[];
}

/** The warning of docs/protocol.md#recommend-at-small-n, or none. */
function smallPartsWarning(labels: Int32Array, classes: number, folds: number, seed: number): string[] {
  const { stopping, selection } = smallestFoldParts(labels, classes, folds, seed);
  if (stopping >= FEW_PER_CLASS && selection >= FEW_PER_CLASS) return [];
  return [
    `warning: with ${folds} folds some class has only ${stopping} sample(s) in a fold's stopping split and ${selection} in its ` +
      `held-out part (fewer than ${FEW_PER_CLASS} per class): each sample moves that class's accuracy by ` +
      `${Math.round(100 / Math.max(1, Math.min(stopping, selection)))} points, so stopping and the choice of l* are noisy; ` +
      `intervals are wide (docs/protocol.md#recommend-at-small-n).`,
  ];
}

export async function prepareRecommend(options: RecommendOptions): Promise<PreparedRecommend> {
  const folds = wholeNumber('--folds', options.folds ?? '5', 2);
  const seed = wholeNumber('--seed', options.seed ?? '0', 0);
  const modes = parseList(options.modes ?? DEFAULT_TRANSFER_MODE);
  for (const m of modes) if (!(TRANSFER_MODES as readonly string[]).includes(m)) throw unknownName('--modes', m, TRANSFER_MODES);
  if (modes.length === 0 || new Set(modes).size !== modes.length)
    throw new UsageError(`--modes: got ${JSON.stringify(options.modes)}; allowed: distinct modes`);
  const depthModes = TRANSFER_MODES.filter((m) => transferModeOf(m).setting === undefined);
  if (!(depthModes as readonly string[]).includes(modes[0]))
    throw new UsageError(
      `--modes: the first mode answers l* and must freeze a prefix (${depthModes.join(', ')}); got ${JSON.stringify(modes[0])} (name protocols with --protocols)`,
    );
  const protocols = options.protocols === undefined ? [] : options.protocols === 'all' ? [...PROTOCOLS] : parseList(options.protocols);
  for (const p of protocols)
    if (!(TRANSFER_MODES as readonly string[]).includes(p))
      throw new UsageError(`--protocols: got ${JSON.stringify(p)}; allowed: "all" or modes from ${TRANSFER_MODES.join(', ')}`);
  if (new Set(protocols).size !== protocols.length)
    throw new UsageError(`--protocols: got ${JSON.stringify(options.protocols)}; allowed: each mode once`);
  const train = trainRecipe(options.set ?? []);

  const modelPath = resolve(options.model);
  const model = readSourceModel(modelPath);
  const named = parseSourceBlocks(options.sourceBlocks);
  const blocks = deriveBlocks(modelPath, model.topology, named);
  // The model out writes a TensorFlow.js network as ONNX too: a layer it cannot write is refused
  // now, before the folds train, rather than after them (docs/your-data.md#the-model-out).
  if (options.saveModel !== undefined && model.format === 'tfjs-layers') {
    const problem = onnxWriteProblem({ ...model.topology, output: blocks.readout });
    if (problem !== null) throw new DataFileError(modelPath, `${problem}; --save-model writes the network as ONNX`);
  }
  const L = blocks.blocks.length;
  const depths =
    options.depths === undefined || options.depths === 'all'
      ? Array.from({ length: L + 1 }, (_, i) => i)
      : parseList(options.depths).map((d) => {
          const n = Number(d);
          if (!Number.isInteger(n) || n < 0 || n > L)
            throw new UsageError(
              `--depths: got ${JSON.stringify(d)}; allowed: "all" or integers from 0 to ${L} (${modelPath} has ${L} blocks)`,
            );
          return n;
        });
  if (new Set(depths).size !== depths.length)
    throw new UsageError(`--depths: got ${JSON.stringify(options.depths)}; allowed: each depth once`);

  const dataPath = resolve(options.data);
  const spec = { path: dataPath, ...(options.labelColumn === undefined ? {} : { label_column: options.labelColumn }) };
  const images = imageOptions(options, model.topology.inputShape);
  // Images resized to a size the network cannot take are refused before one is decoded.
  if (images.size !== null && fileFormatOf(dataPath) === 'images') {
    const size = images.size;
    const fits = (images.channels === null ? [1, 3] : [images.channels]).some((c) =>
      inputShapeFits([size[0], size[1], c], model.topology.inputShape),
    );
    if (!fits)
      throw new UsageError(
        `--image-size ${size[0]}x${size[1]}: images of that size do not fit the network ${modelPath}, which takes inputs of shape ` +
          `[${model.topology.inputShape}]; give the network's size (or leave --image-size out)`,
      );
  }
  const { train: data, sha256: dataSha256 } = await readFileDataset(spec, images);
  if (!inputShapeFits(data.shape, model.topology.inputShape))
    throw new UsageError(
      `${dataPath}: samples of shape [${data.shape}] do not fit the network ${modelPath}, which takes inputs of shape [${model.topology.inputShape}]` +
        (data.shape.length === 3 ? ' (images: --image-size and --channels resize them)' : ''),
    );
  const rangeWarning = rangeNote(readInputStats(modelPath), inputStatsOf(data.features), options.model);
  const counts = classCounts(data.labels, data.classes.length);
  const smallest = counts.indexOf(Math.min(...counts));
  if (counts[smallest] < folds)
    throw new UsageError(
      `${dataPath}: class "${data.classes[smallest]}" has ${counts[smallest]} sample(s); --folds ${folds} needs at least ${folds} per class (use fewer folds)`,
    );
  return {
    request: {
      data: { spec, sha256: dataSha256, images, label: options.data },
      model: { path: modelPath, sha256: fingerprintSourceModel(model), blocks: named, label: options.model },
      folds,
      blocks: L,
      modes: modes as TransferMode[],
      protocols: protocols as TransferMode[],
      seed,
      train,
    },
    depths,
    notes: [...(rangeWarning === null ? [] : [rangeWarning]), ...smallPartsWarning(data.labels, data.classes.length, folds, seed)],
  };
}
