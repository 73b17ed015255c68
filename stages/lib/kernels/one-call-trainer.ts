/**
 * What the two native training steps share once a network is translated: the chain trainer
 * (native-trainer.ts, native/src/trainer.h) and the libtorch step for graphs (graph-trainer.ts,
 * native/torch/src/graph-trainer.h) each hold the network's weights in native memory and run a
 * whole step in one call. Copying the weights in, a step, a forward pass and copying the trained
 * weights back are the same on both; only the addon calls that do them differ.
 */
import * as tf from '@tensorflow/tfjs';

/** One translated trainer's addon calls (the handle bound in). */
export interface TrainerCalls {
  setParam(index: number, values: Float32Array): void;
  getParam(index: number, out: Float32Array): void;
  /** The point parameter `index` is pulled to (its layer's pull > 0). */
  setAnchor(index: number, values: Float32Array): void;
  /** Writes [mean loss, correct predictions] of the batch (before the update) into `out`. */
  step(x: Float32Array, labels: Int32Array, rows: number, out: Float64Array): void;
  forward(x: Float32Array, rows: number, logits: Float32Array): void;
}

/** A network translated into a native trainer, with its weights copied in. */
export class OneCallTrainer {
  private readonly out = new Float64Array(2);

  /**
   * Copies the weights of `weighted` (in order, each layer's weights in order: the trainer's
   * parameter order) into the trainer, with `anchors[l]` the pull targets of layer l or null.
   */
  protected constructor(
    private readonly calls: TrainerCalls,
    private readonly weighted: readonly tf.layers.Layer[],
    anchors: readonly (readonly Float32Array[] | null)[],
    readonly inputSize: number,
    readonly classes: number,
  ) {
    let index = 0;
    weighted.forEach((layer, l) => {
      const anchor = anchors[l];
      layer.getWeights().forEach((weight, w) => {
        if (anchor !== null) calls.setAnchor(index, anchor[w]);
        calls.setParam(index++, weight.dataSync() as Float32Array);
      });
    });
  }

  /** One optimizer step on `rows` samples (x: rows x inputSize values); loss and hits before it. */
  step(x: Float32Array, labels: Int32Array, rows: number): { loss: number; hits: number } {
    this.calls.step(x, labels, rows, this.out);
    return { loss: this.out[0], hits: this.out[1] };
  }

  /** Logits of `rows` samples, rows x classes (BatchNorm in inference mode). */
  forward(x: Float32Array, rows: number): Float32Array {
    const logits = new Float32Array(rows * this.classes);
    this.calls.forward(x, rows, logits);
    return logits;
  }

  /** Copies the trained weights (and BatchNorm statistics) into the network (trainable layers only). */
  sync(): void {
    let index = 0;
    for (const layer of this.weighted) {
      const weights = layer.getWeights();
      if (!layer.trainable) {
        index += weights.length;
        continue;
      }
      const values = weights.map((weight) => {
        const data = new Float32Array(weight.size);
        this.calls.getParam(index++, data);
        return tf.tensor(data, weight.shape, 'float32');
      });
      layer.setWeights(values);
      tf.dispose(values);
    }
  }
}
