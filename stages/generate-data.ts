/**
 * The `generate-data` stage (docs/science.md, docs/data.md): every dataset the study trains and tests on.
 *
 * One instance per role: `source` writes the source training set (`task.source_size` rows) and
 * test set; `target` (one per correlation) writes the target pool (`task.target_pool` rows, whose
 * first n rows are the training set of size n) and test set. Outputs are `train.arrow` and
 * `test.arrow` in the layout of `dataset-table.ts`; a pure function of the params (same params ->
 * same bytes). The work lives in `tasks/generate.ts`, imported inside `run` so that loading the
 * project in the scheduler does not load apache-arrow.
 */
import { StageFailure } from '../pipeline/errors.js';
import { defineStage, type JsonObject } from '../pipeline/stage.js';

export const generateDataStage = defineStage<JsonObject>({
  name: 'generate-data',
  description: 'source and target datasets (synthetic teacher or image class subsets) as Arrow tables',
  code: ['stages/generate-data.ts', 'stages/dataset-table.ts', 'stages/random.ts', 'stages/tasks/**/*.ts'],
  async run(ctx) {
    const { generateData } = await import('./tasks/generate.js');
    const params = ctx.params as unknown as Parameters<typeof generateData>[1];
    ctx.progress({ message: `generating ${params.role} data` });
    try {
      const summary = generateData(ctx.outDir, params);
      ctx.log(
        `${summary.role}: ${summary.train_rows} training and ${summary.test_rows} test rows of shape ` +
          `${JSON.stringify(summary.shape)}; classes ${JSON.stringify(summary.classes)}; ` +
          `train balance ${JSON.stringify(summary.train_balance)}`,
      );
      return { summary };
    } catch (error) {
      // Data problems (a missing package, a class without images, too few images) are user-facing.
      if (error instanceof Error && ['DatasetUnavailable', 'RangeError', 'GenerateParamsError'].includes(error.name))
        throw new StageFailure(`generate-data (${params.role}): ${error.message}`);
      throw error;
    }
  },
});
