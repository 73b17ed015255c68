/**
 * The `generate-data` stage (docs/data.md): every dataset the study trains and tests on.
 *
 * One instance per role: `source` writes the source training set (`task.source_size` rows) and
 * test set; `target` (one per correlation) writes the target pool (`task.target_pool` rows, from
 * which each seed draws its nested training sets) and test set; both write a validation set
 * (`task.validation_size` rows: what runs stop on, docs/protocol.md) and a target also a
 * selection set (`task.selection_size` rows: what l* is chosen on). Outputs are `train.arrow`,
 * `validation.arrow`, `selection.arrow` (targets) and `test.arrow` in the layout of `dataset-table.ts`; a pure function of the params (same params ->
 * same bytes). The work lives in `tasks/generate.ts`, imported inside `run` so that loading the
 * project in the scheduler does not load apache-arrow.
 */
import { z } from 'zod';
import { StageFailure } from '../../pipeline/errors.js';
import { defineStage } from '../../pipeline/stage.js';
import { DATASET } from '../lib/tables/dataset-layout.js';
import {
  classSubsetSchema,
  correlationSchema,
  countSchema,
  imageOptionsSchema,
  imageTaskSchema,
  seedSchema,
  syntheticTaskSchema,
} from '../config/schema.js';

const noise = { test_size: true, validation_size: true, label_noise: true, input_noise: true } as const;
const syntheticShape = { kind: true, latent_dim: true, input_dim: true, teacher_hidden: true, classes: true, ...noise } as const;

/** `files:` datasets: the sha256 of the files' bytes, so that editing the data re-runs the stage. */
const dataSha256 = z.string().optional();
/** `files:` datasets: how image folders are decoded (absent for the built-in datasets, which ignore it). */
const images = imageOptionsSchema.optional();

/** Params: everything that shapes the samples of one role, nothing else (see `plan.ts`). */
export const generateDataParams = z.discriminatedUnion('role', [
  z.strictObject({
    role: z.literal('source'),
    seed: seedSchema,
    data_sha256: dataSha256,
    images,
    task: z.discriminatedUnion('kind', [
      syntheticTaskSchema.pick({ ...syntheticShape, source_size: true }),
      // `task.source` is optional in the config (a `source_model` replaces it), never here.
      imageTaskSchema.pick({ kind: true, source_size: true, ...noise }).extend({ source: classSubsetSchema }),
    ]),
  }),
  z.strictObject({
    role: z.literal('target'),
    seed: seedSchema,
    data_sha256: dataSha256,
    images,
    correlation: correlationSchema.nullable(),
    task: z.discriminatedUnion('kind', [
      syntheticTaskSchema
        .pick({ ...syntheticShape, target_pool: true })
        .extend({ feature_correlation: correlationSchema, rule_correlation: correlationSchema, selection_size: countSchema }),
      imageTaskSchema.pick({ kind: true, target: true, target_pool: true, ...noise }).extend({ selection_size: countSchema }),
    ]),
  }),
]);
export type GenerateDataStageParams = z.output<typeof generateDataParams>;

export const generateDataStage = defineStage({
  name: 'generate-data',
  description: 'source and target datasets (synthetic teacher or image class subsets) as Arrow tables',
  module: import.meta.url,
  params: generateDataParams,
  inputs: {},
  outputs: {
    /** Source training set, or the target pool (each seed trains on the first n rows of its own order of it). */
    train: DATASET.output(),
    /** Held out from the task's distribution, disjoint from train, selection and test: what runs stop on (docs/protocol.md). */
    validation: DATASET.output({ file: 'validation.arrow' }),
    /** Targets only: held out like `validation` and disjoint from it: what l* is chosen on (docs/protocol.md). */
    selection: DATASET.output({ file: 'selection.arrow', optional: true }),
    test: DATASET.output({ file: 'test.arrow' }),
  },
  async run(ctx) {
    const { generateData, loadFileSamples } = await import('./generate-job.js');
    const params = ctx.params;
    ctx.progress({ message: `generating ${params.role} data` });
    try {
      const summary = generateData(ctx.outDir, params, await loadFileSamples(params));
      ctx.log(
        `${summary.role}: ${summary.train_rows} training and ${summary.test_rows} test rows of shape ` +
          `${JSON.stringify(summary.shape)}; classes ${JSON.stringify(summary.classes)}; ` +
          `train balance ${JSON.stringify(summary.train_balance)}`,
      );
      return { summary };
    } catch (error) {
      // Data problems (a missing package or file, a class without images, too few images) are user-facing.
      if (error instanceof Error && ['DatasetUnavailable', 'DataFileError', 'RangeError'].includes(error.name))
        throw new StageFailure(`generate-data (${params.role}): ${error.message}`);
      throw error;
    }
  },
});
