/** `make-numbers`: the numbers value, 2·value, ..., length·value. No inputs. */
import { z } from 'zod';
import { defineStage, table, type StageOutcome } from '../../pipeline/stage.js';
import { numbersSchema } from './config.js';
import { TOY_COLUMNS, toyPreamble, toyTrace, writeToyTable } from './runtime.js';

export const makeNumbersParams = z.strictObject({ numbers: numbersSchema.pick({ length: true }), value: z.number().int() });

export const makeNumbersStage = defineStage({
  name: 'make-numbers',
  description: 'toy: value times 1..length',
  // Relative to the toy code root (DEFROST_TOY_CODE_ROOT): the tests edit that file to change the
  // stage's code fingerprint without touching the repository.
  module: 'toy/make-numbers.ts',
  params: makeNumbersParams,
  inputs: {},
  outputs: { out: table('out.arrow', TOY_COLUMNS) },
  async run(ctx): Promise<StageOutcome> {
    await toyPreamble(ctx);
    const { value, numbers } = ctx.params;
    const values = Array.from({ length: numbers.length }, (_, i) => value * (i + 1));
    await writeToyTable(ctx.output('out'), ctx.stage, values);
    toyTrace(ctx);
    return { summary: { count: values.length } };
  },
});
