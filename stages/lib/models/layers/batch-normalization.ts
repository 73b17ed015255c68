/**
 * BatchNormalization as defrost trains it (docs/your-data.md#batchnorm), registered in place of
 * TensorFlow.js's own class under the same name, so every network defrost loads or builds (an
 * imported ONNX or TensorFlow.js network, a saved one) gets it, and a saved model.json still names
 * the standard `BatchNormalization` any TensorFlow.js program loads.
 *
 * Two differences from TensorFlow.js's layer, both to train as PyTorch's `train()` does:
 * - a layer that is not trainable (a frozen block) normalises with its running statistics even
 *   while the network trains, and leaves them untouched (TensorFlow.js would use the batch's
 *   statistics and update the running ones: a frozen block would change);
 * - a trainable layer normalises with the batch's mean and biased variance and updates its
 *   running statistics with momentum, the variance unbiased (n / (n - 1)), as PyTorch does.
 *
 * Imports TensorFlow.js statically: load with `await import(...)` from stage code.
 */
import * as tf from '@tensorflow/tfjs';

type BaseLayer = ReturnType<typeof tf.layers.batchNormalization>;
type Kwargs = Parameters<BaseLayer['call']>[1];

type BaseClass = (new (args?: Parameters<typeof tf.layers.batchNormalization>[0]) => BaseLayer) &
  Pick<typeof tf.layers.Layer, 'fromConfig'>;

/** TensorFlow.js's BatchNormalization class, reached through an instance (its module is not exported). */
const Base = tf.layers.batchNormalization({}).constructor as BaseClass;

/** The variables of the base layer, which TensorFlow.js declares private. */
interface Variables {
  readonly gamma: tf.LayerVariable | null;
  readonly beta: tf.LayerVariable | null;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
  readonly epsilon: number;
  readonly momentum: number;
  readonly axis: number;
}

export class DefrostBatchNormalization extends Base {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    if (kwargs['training'] !== true || !this.trainable) return super.call(inputs, { ...kwargs, training: false });
    const v = this as unknown as Variables;
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const axis = v.axis < 0 ? v.axis + x.rank : v.axis;
      if (axis !== x.rank - 1) throw new Error(`BatchNormalization ${this.name}: only the last axis is supported`);
      const reduce = Array.from({ length: x.rank - 1 }, (_, k) => k);
      const { mean, variance } = tf.moments(x, reduce);
      const y = tf.batchNorm(x, mean, variance, v.beta?.read(), v.gamma?.read(), v.epsilon);
      const n = x.size / x.shape[x.rank - 1];
      const decay = 1 - v.momentum;
      tf.tidy(() => {
        const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
        const mm = v.movingMean.read();
        const mv = v.movingVariance.read();
        v.movingMean.write(tf.sub(mm, tf.mul(tf.sub(mm, mean), decay)));
        v.movingVariance.write(tf.sub(mv, tf.mul(tf.sub(mv, unbiased), decay)));
      });
      return y;
    });
  }
}
tf.serialization.registerClass(DefrostBatchNormalization);
