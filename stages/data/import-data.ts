/**
 * `import-data` (docs/your-data.md): the user's labelled files (npy, arrow, csv or an image
 * folder) as a dataset table in the layout of stages/lib/tables/dataset-table.ts. Its key is the files'
 * sha256 (and the image options), so the same bytes are imported once.
 */
import { StageFailure } from '../../pipeline/errors.js';
import { z } from 'zod';
import { defineStage, type ContextOf } from '../../pipeline/stage.js';
import { DATASET } from '../lib/tables/dataset-layout.js';
import { importDataParams } from './import-params.js';

/** What `import-data` reports; `recommend` reads the sample and class counts from it. */
export const importDataSummary = z.strictObject({
  train_rows: z.number().int(),
  /** 0 without a test part. */
  test_rows: z.number().int(),
  /** Shape of one sample. */
  shape: z.array(z.number().int()),
  classes: z.array(z.string()),
  /** Training samples per class, in `classes` order. */
  class_counts: z.array(z.number().int()),
});

const declaration = {
  name: 'import-data',
  description: "the user's labelled files (npy, arrow, csv, image folder) as a dataset table",
  module: import.meta.url,
  params: importDataParams,
  inputs: {},
  outputs: {
    /** Every labelled sample (the training part of a train/test pair). */
    train: DATASET.output(),
    /** The test part of a train/test pair. */
    test: DATASET.output({ file: 'test.arrow', optional: true }),
  },
  summary: importDataSummary,
} as const;
export type ImportDataContext = ContextOf<typeof declaration>;

export const importDataStage = defineStage({
  ...declaration,
  async run(ctx) {
    const { importData } = await import('./import-job.js');
    try {
      const summary = await importData(ctx);
      ctx.log(`imported ${JSON.stringify(summary)}`);
      return { summary };
    } catch (error) {
      // The files changed or no longer decode: a user-facing failure, not a bug.
      if (error instanceof Error && error.name === 'DataFileError') throw new StageFailure(`import-data: ${error.message}`);
      throw error;
    }
  },
});
