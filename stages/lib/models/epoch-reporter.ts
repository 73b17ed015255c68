/**
 * What a training stage says at the end of each epoch: the scheduler's progress (epoch, planned
 * epochs, loss) and one log line with the curve row. Every stage that trains a network reports
 * the same way, so `defrost log` reads alike for `train-source`, `transfer`, `cv-train` and
 * `fine-tune`.
 */
import type { StageContext } from '../../../pipeline/stage.js';
import type { EpochRecord, TrainOptions } from './training.js';

/** The `onEpoch` of `trainNetwork` that reports to this stage instance's progress and log. */
export function epochReporter(ctx: Pick<StageContext, 'log' | 'progress'>): NonNullable<TrainOptions['onEpoch']> {
  return (r: EpochRecord, planned: number) => {
    ctx.progress({ epoch: r.epoch, epochs: planned, loss: r.loss });
    ctx.log(
      `epoch ${r.epoch}/${planned} loss ${r.loss.toFixed(5)} train_acc ${r.train_accuracy.toFixed(4)}` +
        (r.val_loss === null ? '' : ` val_loss ${r.val_loss.toFixed(5)} val_acc ${(r.val_accuracy ?? 0).toFixed(4)}`),
    );
  };
}
