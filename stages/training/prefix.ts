/**
 * `prefix` (docs/performance.md, "Frozen-prefix activations"): the outputs of hidden block l of a
 * source network for every sample of a target dataset (its pool, stopping, selection and test
 * sets), computed once and read by every transfer that keeps blocks 1..l frozen: every seed that
 * shares the source network, every n, every mode with that frozen prefix; and by every fold of
 * `recommend` at that depth (`cv-train`, on the imported samples). Depth l is computed from
 * depth l - 1's activations (its `previous` input) when those are cached, else from the inputs.
 *
 * The tables have the dataset layout (lib/tables/dataset-layout.ts) with the block's output shape,
 * so a transfer reads them as it reads its data. They are not written (the outputs are optional)
 * when caching cannot apply: the prefix would exceed `limit_bytes` (config
 * `transfer.prefix_cache_gb`), or the network does not split there (a graph, a BatchNorm or dropout
 * layer in the prefix). The summary says which (`cached`, `reason`); the transfers then compute the
 * prefix as before, and `run` says so at its end (after-run.ts).
 */
import { z } from 'zod';
import { StageFailure } from '../../pipeline/errors.js';
import { defineStage, input, inputs, type ContextOf, type JsonObject } from '../../pipeline/stage.js';
import { countSchema } from '../config/schema.js';
import { DATASET } from '../lib/tables/dataset-layout.js';
import { generateDataStage } from '../data/generate-data.js';
import { importDataStage } from '../data/import-data.js';
import { importSourceStage } from '../data/import-source.js';
import { trainSourceStage } from './train-source.js';

/** The dataset layout (lib/tables/dataset-layout.ts); every table is absent when the prefix is not cached. */
export const PREFIX_OUTPUTS = {
  /** Block-l outputs of the target pool (rows in the pool's order). */
  train: DATASET.output({ optional: true }),
  validation: DATASET.output({ file: 'validation.arrow', optional: true }),
  selection: DATASET.output({ file: 'selection.arrow', optional: true }),
  test: DATASET.output({ file: 'test.arrow', optional: true }),
} as const;

/** The stage's name and outputs, for its own `previous` input (a stage cannot name itself before it exists). */
const PREFIX_PRODUCER = { name: 'prefix', outputs: PREFIX_OUTPUTS } as const;

export const prefixParams = z.strictObject({
  /** The block l whose outputs are stored (1..L). */
  depth: countSchema,
  /** Largest artifact written, in bytes (`transfer.prefix_cache_gb`); over it nothing is cached. */
  limit_bytes: z.number().int().min(0),
});

const declaration = {
  name: 'prefix',
  description: "compute a source network's block-l outputs on every target sample once (frozen-prefix activations)",
  module: import.meta.url,
  params: prefixParams,
  inputs: {
    /** A study's target data (its pool, stopping, selection and test sets); or, for `recommend`, ... */
    data: inputs(generateDataStage),
    /** ... the imported samples its folds are cut from (one of the two is given). */
    samples: inputs(importDataStage),
    source: input(trainSourceStage, importSourceStage),
    /** Depth l - 1's activations of the same source and data (empty at l = 1). */
    previous: inputs(PREFIX_PRODUCER),
  },
  outputs: PREFIX_OUTPUTS,
} as const;

export type PrefixContext = ContextOf<typeof declaration>;

/**
 * What the summary of a `prefix` instance records: whether the tables were written, their bytes,
 * the block's output shape and the network's input shape (a transfer that reads the activations
 * builds its network for the inputs), or why not.
 */
export const prefixSummary = z.strictObject({
  cached: z.boolean(),
  bytes: z.number().min(0),
  shape: z.array(z.number().int()),
  input_shape: z.array(z.number().int()),
  reason: z.string().nullable(),
});
export type PrefixSummary = z.output<typeof prefixSummary>;

/** Reads a `prefix` summary from a manifest (null when it is not one). */
export function prefixSummaryOf(summary: unknown): PrefixSummary | null {
  const parsed = prefixSummary.safeParse(summary);
  return parsed.success ? parsed.data : null;
}

/**
 * The summary of the `prefix` input a transfer or fold run reads, when its activations are
 * cached; null when they are not (a log line says why: the run then computes blocks 1..l every
 * step, as without a cache). A summary that is not a prefix's fails the run, naming `label`.
 */
export function cachedPrefixSummary(
  prefix: { readonly id: string; readonly summary: unknown; readonly params: JsonObject },
  label: string,
  log: (line: string) => void,
): PrefixSummary | null {
  const summary = prefixSummaryOf(prefix.summary);
  if (summary === null) throw new StageFailure(`${label}: the summary of ${prefix.id} is not a prefix summary`);
  if (!summary.cached) {
    log(`frozen prefix not cached (${summary.reason}): blocks 1..${String(prefix.params.depth)} run every step`);
    return null;
  }
  return summary;
}

/** A `prefix` instance's `limit_bytes` for a limit of `gb` gigabytes (`transfer.prefix_cache_gb`). */
export function prefixLimitBytes(gb: number): number {
  return Math.round(gb * 1e9);
}

export const prefixStage = defineStage({
  ...declaration,
  summary: prefixSummary,
  async run(ctx) {
    const job = await import('./prefix-job.js');
    return job.runPrefix(ctx);
  },
});
