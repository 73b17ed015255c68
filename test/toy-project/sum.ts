/** `sum`: for every `square` instance, the sum (or mean) of its `sum.top` largest squares. */
import { z } from 'zod';
import { defineStage, inputs, table, type StageOutcome } from '../../pipeline/stage.js';
import { sumSchema } from './config.js';
import { squareStage } from './square.js';
import { TOY_COLUMNS, readToyValues, toyPreamble, toyTrace, writeToyTable } from './runtime.js';

export const sumParams = z.strictObject({ sum: sumSchema });

export const sumStage = defineStage({
  name: 'sum',
  description: 'toy: the sum of the largest squares of each input',
  module: 'toy/sum.ts',
  params: sumParams,
  inputs: { runs: inputs(squareStage) },
  outputs: { out: table('out.arrow', TOY_COLUMNS) },
  async run(ctx): Promise<StageOutcome> {
    await toyPreamble(ctx);
    const { top, kind } = ctx.params.sum;
    const totals: number[] = [];
    for (const run of ctx.inputs.runs) {
      const kept = (await readToyValues(run.path('out'))).sort((a, b) => b - a).slice(0, top);
      const total = kept.reduce((a, b) => a + b, 0);
      totals.push(kind === 'mean' ? total / kept.length : total);
    }
    await writeToyTable(ctx.output('out'), ctx.stage, totals);
    toyTrace(ctx);
    return { summary: { total: totals.reduce((a, b) => a + b, 0), inputs: totals.length } };
  },
});
