/**
 * The one factory of the three training stages (`train-source`, `train-scratch`, `transfer`):
 * each stage module is a declaration — name, params schema, inputs — and this factory adds what
 * they share: the outputs and the summary of a training run and a `run` that loads the heavy job module
 * (`training-job.ts`, TensorFlow.js and Arrow) only inside a worker, never in the scheduler.
 */
import { z } from 'zod';
import {
  defineStage,
  directory,
  type InputDecls,
  type OutputDecls,
  type ParamsSchema,
  type Stage,
  type StageContext,
  type StageOutcome,
} from '../../pipeline/stage.js';
import { correlationSchema, countSchema, modelSchema, seedSchema, VALIDATION_SCHEMES } from '../config/schema.js';
import { trainSchema } from '../lib/models/recipe.js';
import { TRAINING_CURVE, TRAINING_METRICS, TRAINING_SUMMARY } from '../lib/tables/training-tables.js';
import { TRANSFER_MODES } from '../lib/models/transfer-modes/registry.js';

/** What every training stage reads: the network, the optimisation recipe and the seed. */
export const trainSourceParams = z.strictObject({ model: modelSchema, train: trainSchema, seed: seedSchema });
/**
 * A target run also reads its correlation (a coordinate), n (its seed's n pool samples) and the
 * validation scheme: where it stops and where its selection accuracy is measured (docs/protocol.md). Its `model` is null when the study brings a pre-trained source network
 * (`source_model`, docs/your-data.md): the run then takes that network's architecture, freshly
 * initialised, from its source (transfer) or architecture (scratch) input.
 */
export const trainScratchParams = trainSourceParams.extend({
  model: modelSchema.nullable(),
  correlation: correlationSchema.nullable(),
  n: countSchema,
  validation: z.enum(VALIDATION_SCHEMES),
});
/**
 * A transfer also reads its mode and the mode's setting: `depth`, the l of a mode whose setting is
 * the depth (blocks 1..l frozen), or `setting`, any other mode's (docs/science.md#transfer-modes);
 * and the mode's fixed options when it has any (`transfer.protocols.<mode>`).
 */
export const transferParams = trainScratchParams.extend({
  mode: z.enum(TRANSFER_MODES),
  depth: z.number().int().min(0).optional(),
  setting: z.number().optional(),
  options: z.record(z.string(), z.number()).optional(),
});

/** Outputs of every training run (columns in stages/lib/tables/training-tables.ts). */
export const TRAINING_OUTPUTS = {
  curve: TRAINING_CURVE.output(),
  metrics: TRAINING_METRICS.output(),
} as const;

/** ... plus the trained network, for runs others read (source and scratch networks). */
export const NETWORK_OUTPUTS = { ...TRAINING_OUTPUTS, model: directory('model') } as const;

/** The job module, typed for the factory's callers. */
type TrainingJob = typeof import('./training-job.js');

/** Declares a training stage: `job` picks the entry point of `training-job.ts` that runs it. */
export function trainingStage<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls>(declaration: {
  readonly name: N;
  readonly description: string;
  readonly module: string;
  readonly params: S;
  readonly inputs: I;
  readonly outputs: O;
  readonly job: (job: TrainingJob, ctx: StageContext<z.output<S>, I, O>) => Promise<StageOutcome>;
}): Stage<N, S, I, O> {
  const { job, ...stage } = declaration;
  return defineStage({
    ...stage,
    // Its metrics row: the report reads it (stages/lib/report/results.ts).
    summary: TRAINING_SUMMARY,
    async run(ctx) {
      return job(await import('./training-job.js'), ctx);
    },
  });
}
