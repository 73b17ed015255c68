/**
 * `import-data` (docs/your-data.md): the user's labelled files (npy, arrow, csv or an image
 * folder) as a dataset table in the layout of stages/lib/tables/dataset-table.ts. Its key is the files'
 * sha256 (and the image options), so the same bytes are imported once.
 */
import { StageFailure } from '../../pipeline/errors.js';
import { defineStage, table, type ContextOf } from '../../pipeline/stage.js';
import { importDataParams } from './import-params.js';

const DATASET_COLUMNS = { label: 'Int32' } as const;

const declaration = {
  name: 'import-data',
  description: "the user's labelled files (npy, arrow, csv, image folder) as a dataset table",
  module: import.meta.url,
  params: importDataParams,
  inputs: {},
  outputs: {
    /** Every labelled sample (the training part of a train/test pair). */
    train: table('train.arrow', DATASET_COLUMNS),
    /** The test part of a train/test pair. */
    test: table('test.arrow', DATASET_COLUMNS, { optional: true }),
  },
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
