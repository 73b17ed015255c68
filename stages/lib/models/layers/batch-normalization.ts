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

/**
 * Per-channel sums of a channels-last tensor as one matrix product, `ones` ([1, n]) times the
 * tensor as [n, channels]: on wasm-blas an OpenBLAS call, where TensorFlow.js's reductions over the
 * leading axes first transpose the whole tensor.
 */
function channelSums(t: tf.Tensor, ones: tf.Tensor): tf.Tensor {
  const channels = t.shape[t.rank - 1];
  return tf.reshape(tf.matMul(ones, tf.reshape(t, [-1, channels])), [channels]);
}

/**
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta with the batch's own statistics, and its
 * gradient written out (the standard closed form, as PyTorch's kernel computes it):
 *   dx = gamma / sqrt(variance + epsilon) * (dy - mean(dy) - xhat * mean(dy * xhat)),
 *   dgamma = sum(dy * xhat), dbeta = sum(dy), means and sums over every axis but the channels.
 * Why not `tf.batchNorm` and automatic differentiation: TensorFlow.js's batchNorm gradient tiles
 * 1 / sqrt(variance) to the full input shape and the gradients of the moments build tensors of
 * ones of that shape, which made BatchNorm most of the training step of the ResNet-8 fixture
 * (docs/performance.md). `mean` and `variance` enter the forward pass only: the gradient through
 * them is part of dx above, so the tape must not differentiate the moments again.
 */
function normaliseWithBatchStatistics(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor | null,
  beta: tf.Tensor | null,
  epsilon: number,
): tf.Tensor {
  const count = x.size / x.shape[x.rank - 1];
  const inputs = [x, ...(gamma === null ? [] : [gamma]), ...(beta === null ? [] : [beta])];
  // The tensors the gradient needs are saved: the forward pass's others are disposed after it.
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1];
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(x, mean), inverseStd);
    const scaled = gamma === null ? xhat : tf.mul(xhat, gamma);
    const value = beta === null ? scaled : tf.add(scaled, beta);
    if (typeof save === 'function') save([xhat, gamma === null ? inverseStd : tf.mul(gamma, inverseStd)]);
    const gradFunc = (dy: tf.Tensor, [savedXhat, factor]: tf.Tensor[]): tf.Tensor[] => {
      const ones = tf.ones([1, count]);
      const dbeta = channelSums(dy, ones);
      const dgamma = channelSums(tf.mul(dy, savedXhat), ones);
      const centred = tf.sub(tf.sub(dy, tf.div(dbeta, count)), tf.mul(savedXhat, tf.div(dgamma, count)));
      return [tf.mul(centred, factor), ...(gamma === null ? [] : [dgamma]), ...(beta === null ? [] : [dbeta])];
    };
    return { value, gradFunc };
  });
  return normalise(...inputs);
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
      const n = x.size / x.shape[x.rank - 1];
      const ones = tf.ones([1, n]);
      const mean = tf.div(channelSums(x, ones), n);
      const variance = tf.div(channelSums(tf.square(tf.sub(x, mean)), ones), n);
      const y = normaliseWithBatchStatistics(x, mean, variance, v.gamma?.read() ?? null, v.beta?.read() ?? null, v.epsilon);
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
