/**
 * A grouped or dilated 2-D convolution (docs/your-data.md#onnx), which TensorFlow.js's layers
 * lack: ONNX `Conv` with 1 < groups, and any dilated one (TensorFlow.js's DepthwiseConv2D does not
 * dilate, and no TensorFlow.js convolution has a gradient with dilation). The input's channels are split into `groups` equal parts, each
 * convolved with its own filters, and the outputs concatenated: PyTorch's `groups`. The kernel is
 * [kh, kw, in / groups, filters], filter f belonging to group floor(f / (filters / groups)), which
 * is the layout ONNX's [filters, in / groups, kh, kw] copies into (weight-layout.ts).
 *
 * Registered under `GroupedConv2D`: a model.json with it loads in defrost (which imports this
 * module wherever it loads networks), not in a stock TensorFlow.js; only imported ONNX networks
 * have it, and they are written back as ONNX.
 *
 * Imports TensorFlow.js statically: load with `await import(...)` from stage code.
 */
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

export type GroupedConv2DArgs = LayerArgs & {
  readonly filters: number;
  readonly groups: number;
  readonly kernelSize: [number, number];
  readonly strides?: [number, number];
  readonly dilationRate?: [number, number];
  readonly padding?: 'valid' | 'same';
  readonly useBias?: boolean;
};

/** A kernel [kh, kw, c, m] with dilation d: [(kh-1)dh+1, (kw-1)dw+1, c, m], zeros between the taps. */
function dilated(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, c, m] = kernel.shape;
  const spread = tf.pad(kernel.reshape([kh, 1, kw, 1, c * m]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
  ]);
  return tf.slice(spread.reshape([kh * dh, kw * dw, c, m]) as tf.Tensor4D, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c, m]);
}

export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  private readonly filters: number;
  private readonly groups: number;
  private readonly kernelSize: [number, number];
  private readonly strides: [number, number];
  private readonly dilationRate: [number, number];
  private readonly padding: 'valid' | 'same';
  private readonly useBias: boolean;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.groups = args.groups;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? [1, 1];
    this.dilationRate = args.dilationRate ?? [1, 1];
    this.padding = args.padding ?? 'valid';
    this.useBias = args.useBias ?? true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    if (channels % this.groups !== 0 || this.filters % this.groups !== 0)
      throw new Error(
        `GroupedConv2D ${this.name}: ${channels} channels and ${this.filters} filters do not split into ${this.groups} groups`,
      );
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', [kh, kw, channels / this.groups, this.filters], 'float32', tf.initializers.glorotUniform({}));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const size = (n: number | null, k: number, s: number, d: number): number | null => {
      if (n === null) return null;
      if (this.padding === 'same') return Math.ceil(n / s);
      return Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
    };
    return [
      shape[0],
      size(shape[1], this.kernelSize[0], this.strides[0], this.dilationRate[0]),
      size(shape[2], this.kernelSize[1], this.strides[1], this.dilationRate[1]),
      this.filters,
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      let kernel = (this.kernel as tf.LayerVariable).read() as tf.Tensor4D;
      // TensorFlow.js has no gradient for dilated convolutions: the kernel is spread out with
      // zeros instead (the same sums), which every convolution gradient handles.
      if (this.dilationRate.some((d) => d > 1)) kernel = dilated(kernel, this.dilationRate);
      const channels = x.shape[3];
      let y: tf.Tensor4D;
      if (this.groups === channels && kernel.shape[2] === 1) {
        const [kh, kw] = kernel.shape;
        y = tf.depthwiseConv2d(x, kernel.reshape([kh, kw, channels, this.filters / channels]) as tf.Tensor4D, this.strides, this.padding);
      } else {
        // Slices rather than tf.split, whose gradient fails when it makes one part.
        const inPer = channels / this.groups;
        const outPer = this.filters / this.groups;
        const [n, h, w] = x.shape;
        const [kh, kw] = kernel.shape;
        const ys = Array.from({ length: this.groups }, (_, g) =>
          tf.conv2d(
            this.groups === 1 ? x : tf.slice(x, [0, 0, 0, g * inPer], [n, h, w, inPer]),
            this.groups === 1 ? kernel : tf.slice(kernel, [0, 0, 0, g * outPer], [kh, kw, inPer, outPer]),
            this.strides,
            this.padding,
          ),
        );
        y = ys.length === 1 ? ys[0] : tf.concat(ys, 3);
      }
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      groups: this.groups,
      kernelSize: this.kernelSize,
      strides: this.strides,
      dilationRate: this.dilationRate,
      padding: this.padding,
      useBias: this.useBias,
    };
  }
}
tf.serialization.registerClass(GroupedConv2D);
