/**
 * The training recipe: the `train` section of the config, as every training run receives it
 * (docs/training.md, docs/protocol.md). The config composes it; the training loop reads it.
 */
import { z } from 'zod';

const count = z.number().int().positive();

/** Early stopping on the validation set (docs/protocol.md). */
export const earlyStoppingSchema = z.strictObject({
  patience: count.default(10).describe('validation checks without improvement of `monitor` before training stops'),
  max_epochs: count
    .default(200)
    .describe('the budget in epochs (extended to `train.min_steps` steps when epochs are short); patience is meant to end training first'),
  monitor: z
    .enum(['val_accuracy', 'val_loss'])
    .default('val_accuracy')
    .describe('what improvement means: a higher validation accuracy (default: the quantity l* is chosen on) or a lower validation loss'),
  check_steps: count
    .default(10)
    .describe('validation is checked after every epoch, or after groups of epochs of at least this many optimizer steps (small n)'),
});

export const trainSchema = z.strictObject({
  optimizer: z.enum(['sgd', 'momentum', 'adam']).default('adam').describe('optimizer of every training run'),
  learning_rate: z
    .union([z.number().positive(), z.array(z.number().positive()).min(1)])
    .default(0.001)
    .describe('learning rate, or a list: each run then trains once per rate and keeps the best on validation (docs/protocol.md)'),
  momentum: z.number().min(0).max(1).default(0.9).describe('only for `momentum`'),
  batch_size: count.default(64).describe('mini-batch size'),
  epochs: count.default(20).describe('training epochs when `early_stopping` is null (the fixed budget)'),
  min_steps: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'at least this many optimizer steps fit in the budget (fixed or `early_stopping.max_epochs`), adding epochs if needed (small n)',
    ),
  early_stopping: earlyStoppingSchema
    .nullable()
    .default(earlyStoppingSchema.parse({}))
    .describe(
      'on by default: stop on the validation set and restore the best weights (docs/protocol.md); null: a fixed budget of `epochs`',
    ),
});

/** The `train` section after defaults (the schema's output type). */
export type TrainConfig = z.output<typeof trainSchema>;
/** `train.early_stopping` after defaults. */
export type EarlyStoppingConfig = z.output<typeof earlyStoppingSchema>;

/** The learning rates a run tries, in the order given (one when `train.learning_rate` is a number). */
export function learningRatesOf(train: Pick<TrainConfig, 'learning_rate'>): number[] {
  return typeof train.learning_rate === 'number' ? [train.learning_rate] : [...train.learning_rate];
}
