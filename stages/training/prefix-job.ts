/**
 * The body of the `prefix` stage (./prefix.ts): block l's outputs of every target sample, from
 * depth l - 1's cached activations through block l alone, or from the inputs through blocks 1..l.
 * Heavy (TensorFlow.js, Arrow): loaded with `await import('./prefix-job.js')` inside a worker.
 */
import { existsSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { StageOutcome } from '../../pipeline/stage.js';
import { memoisedDataset, memoisedNetwork, type DigestedInput } from '../lib/models/input-memo.js';
import { activationsOf, blockOutputShape, blocksNetwork, inputShapeOf, splitRefusal } from '../lib/models/prefix-split.js';
import { widthOf, writeDataset, type Dataset } from '../lib/tables/dataset-table.js';
import { prefixSummaryOf, type PrefixContext, type PrefixSummary } from './prefix.js';

/** The tables of a target dataset, in the order they are written; `selection` may be absent. */
const TABLES = ['train', 'validation', 'selection', 'test'] as const;

/** The tables of `recommend`'s imported samples: every sample, and a train/test pair's test part. */
const SAMPLE_TABLES = ['train', 'test'] as const;

/** The tables of `names` that `input` published, read once per worker (input-memo.ts). */
async function tablesOf<N extends (typeof TABLES)[number]>(
  ctx: PrefixContext,
  input: DigestedInput<N>,
  names: readonly N[],
): Promise<{ name: N; table: Dataset }[]> {
  const present = names.filter((name) => existsSync(input.path(name)));
  return Promise.all(present.map(async (name) => ({ name, table: await memoisedDataset(ctx.memo, input, name) })));
}

function fail(message: string): never {
  throw new StageFailure(message);
}

/** Bytes for people: GB from one gigabyte up, else MB. */
function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function outcome(summary: PrefixSummary): StageOutcome {
  return { summary: { ...summary } };
}

export async function runPrefix(ctx: PrefixContext): Promise<StageOutcome> {
  const { depth, limit_bytes: limit } = ctx.params;
  let source: tf.LayersModel;
  try {
    // Shared with the transfers of this worker (input-memo.ts): read, never disposed here.
    source = await memoisedNetwork(ctx.memo, ctx.inputs.source, 'model');
  } catch (error) {
    throw new StageFailure(`prefix: cannot load the source network: ${(error as Error).message}`);
  }
  const inputShape = inputShapeOf(source);
  const refusal = splitRefusal(source, depth);
  if (refusal !== null) {
    ctx.log(`not cached: ${refusal}; transfers at depth ${depth} compute blocks 1..${depth} every step`);
    return outcome({ cached: false, bytes: 0, shape: [], input_shape: inputShape, reason: refusal });
  }
  const shape = blockOutputShape(source, depth);
  const study = ctx.inputs.data[0];
  const samples = ctx.inputs.samples[0];
  const raw =
    study !== undefined
      ? await tablesOf(ctx, study, TABLES)
      : samples !== undefined
        ? await tablesOf(ctx, samples, SAMPLE_TABLES)
        : fail('prefix: neither target data nor imported samples given');
  const bytes = raw.reduce((sum, { table }) => sum + table.rows * widthOf(shape) * 4, 0);
  if (bytes > limit) {
    const reason = `${size(bytes)} of activations is over the limit of ${size(limit)} (transfer.prefix_cache_gb)`;
    ctx.log(`not cached: ${reason}`);
    return outcome({ cached: false, bytes, shape, input_shape: inputShape, reason });
  }
  // From depth l - 1's activations through block l alone, when they are cached.
  const previous = ctx.inputs.previous[0];
  const fromPrevious = previous !== undefined && prefixSummaryOf(previous.summary)?.cached === true;
  const network = fromPrevious ? blocksNetwork(source, depth, depth) : blocksNetwork(source, 1, depth);
  try {
    for (const { name, table } of raw) {
      const input: Dataset = fromPrevious && previous !== undefined ? await memoisedDataset(ctx.memo, previous, name) : table;
      if (input.rows !== table.rows)
        throw new StageFailure(`prefix: ${previous?.id} holds ${input.rows} ${name} rows, the data ${table.rows}`);
      const features = activationsOf(network, input.features, input.rows);
      writeDataset(ctx.output(name), {
        features,
        labels: table.labels,
        rows: table.rows,
        shape,
        classes: table.classes,
        provenance: { generator: 'prefix', depth, from: fromPrevious ? `block ${depth - 1} activations` : 'inputs' },
      });
    }
  } finally {
    network.dispose();
  }
  ctx.log(
    `cached block ${depth} outputs of shape [${shape}] for ${raw.map(({ name, table }) => `${table.rows} ${name}`).join(', ')} rows ` +
      `(${size(bytes)}), from ${fromPrevious ? `${previous?.id}` : 'the inputs'}`,
  );
  return outcome({ cached: true, bytes, shape, input_shape: inputShape, reason: null });
}
