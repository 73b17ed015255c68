/** `square`: the square of every number of one `make-numbers` instance, plus `square.offset`. */
import { z } from 'zod';
import { defineStage, input, table, type StageOutcome } from '../../pipeline/stage.js';
import { squareSchema } from './config.js';
import { makeNumbersStage } from './make-numbers.js';
import { TOY_COLUMNS, readToyValues, toyPreamble, toyTrace, writeToyTable } from './runtime.js';

export const squareParams = z.strictObject({ square: squareSchema });

export const squareStage = defineStage({
  name: 'square',
  description: 'toy: squares of the numbers, plus an offset',
  module: 'toy/square.ts',
  params: squareParams,
  inputs: { numbers: input(makeNumbersStage) },
  outputs: { out: table('out.arrow', TOY_COLUMNS) },
  async run(ctx): Promise<StageOutcome> {
    await toyPreamble(ctx);
    const numbers = await readToyValues(ctx.inputs.numbers.path('out'));
    const squares = numbers.map((x) => x * x + ctx.params.square.offset);
    await writeToyTable(ctx.output('out'), ctx.stage, squares);
    toyTrace(ctx);
    return { summary: { largest: Math.max(...squares) } };
  },
});
