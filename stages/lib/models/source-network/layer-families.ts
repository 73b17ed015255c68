/**
 * The layer classes defrost knows in a source network, by family. Written once and read by the
 * shape checks (layer-weights.ts), the ONNX writer (onnx-writer.ts) and the block finder
 * (graph-blocks.ts), so a class added to a family is known to all three.
 */

/** Convolutions: a kernel slid over one or two spatial axes. Each starts a block. */
export const CONVOLUTION_LAYERS = ['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'GroupedConv2D'] as const;

/** Pooling, over a window or over a whole feature map. */
export const POOLING_LAYERS = [
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
] as const;

/** Layers that act only while training (dropout, noise): identities at inference. */
export const TRAINING_ONLY_LAYERS = ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout'] as const;

/** Layers that combine inputs of one shape value by value (`Add` joins a residual branch). */
export const ELEMENTWISE_LAYERS = ['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum'] as const;

/** Whether `className` belongs to `family`. */
export function isLayerOf<T extends string>(family: readonly T[], className: string): className is T {
  return family.some((member) => member === className);
}
