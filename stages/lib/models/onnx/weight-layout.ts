/**
 * How a weight of an imported ONNX network is laid out on each side, and the exact permutations
 * between them (docs/your-data.md#onnx). ONNX (PyTorch) computes on NCHW tensors, TensorFlow.js
 * on NHWC; the values are the same numbers in another order, so both directions are copies
 * (bit-identical, no arithmetic), and a network imported and written back unchanged has the
 * bytes it came with.
 *
 * - `oihw`: a convolution kernel [out, in/groups, kh, kw] <-> [kh, kw, in/groups, out] (Conv2D
 *   and grouped convolutions; a depthwise kernel [C*k, 1, kh, kw] is the same copy followed by a
 *   reshape to [kh, kw, C, k], which does not move a value).
 * - `dense`: a MatMul/Gemm matrix [in, out] (or [out, in] with `transposed`, as Gemm's transB=1
 *   stores it) <-> a Dense kernel [in, out]; with `flattened: [C, H, W]` its input rows are the
 *   features of a flattened [C, H, W] tensor, which TensorFlow.js flattens in (h, w, c) order.
 * - `vector`: per-channel values (biases, BatchNorm parameters) <-> the same values, permuted like
 *   the rows of `dense` when the channels are the features of a flattened [C, H, W] tensor.
 */

export type WeightLayout =
  | { readonly kind: 'oihw' }
  | { readonly kind: 'dense'; readonly transposed: boolean; readonly flattened: readonly number[] | null }
  | { readonly kind: 'vector'; readonly flattened: readonly number[] | null };

/**
 * For features flattened from [C, H, W] in TensorFlow.js's (h, w, c) order: the ONNX (c, h, w)
 * index of each TensorFlow.js feature index.
 */
export function flattenOrder(chw: readonly number[]): Int32Array {
  const [c, h, w] = chw;
  const order = new Int32Array(c * h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) order[(y * w + x) * c + k] = k * h * w + y * w + x;
  return order;
}

/** The TensorFlow.js shape of a weight of ONNX dims `dims` (depthwise kernels reshape after). */
export function layersShape(dims: readonly number[], layout: WeightLayout): number[] {
  switch (layout.kind) {
    case 'oihw':
      return [dims[2], dims[3], dims[1], dims[0]];
    case 'dense':
      return layout.transposed ? [dims[1], dims[0]] : [dims[0], dims[1]];
    case 'vector':
      return [dims.reduce((a, b) => a * b, 1)];
  }
}

/**
 * Index map of the copy: `target[k] = source[map[k]]` from ONNX to TensorFlow.js order, and
 * `source[map[k]] = target[k]` back.
 */
function indexMap(dims: readonly number[], layout: WeightLayout): Int32Array {
  switch (layout.kind) {
    case 'oihw': {
      const [o, i, kh, kw] = dims;
      const map = new Int32Array(o * i * kh * kw);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let c = 0; c < i; c++) for (let m = 0; m < o; m++) map[((y * kw + x) * i + c) * o + m] = ((m * i + c) * kh + y) * kw + x;
      return map;
    }
    case 'dense': {
      const [rows, cols] = layout.transposed ? [dims[1], dims[0]] : [dims[0], dims[1]];
      const order = layout.flattened ? flattenOrder(layout.flattened) : null;
      const map = new Int32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const from = order ? order[r] : r;
        for (let c = 0; c < cols; c++) map[r * cols + c] = layout.transposed ? c * rows + from : from * cols + c;
      }
      return map;
    }
    case 'vector': {
      const size = dims.reduce((a, b) => a * b, 1);
      return layout.flattened ? flattenOrder(layout.flattened) : Int32Array.from({ length: size }, (_, k) => k);
    }
  }
}

/** ONNX values (of dims `dims`) in TensorFlow.js order. */
export function toLayersOrder(values: Float32Array, dims: readonly number[], layout: WeightLayout): Float32Array {
  const map = indexMap(dims, layout);
  const out = new Float32Array(map.length);
  for (let k = 0; k < map.length; k++) out[k] = values[map[k]];
  return out;
}

/** TensorFlow.js values back in ONNX order (dims `dims`). */
export function toOnnxOrder(values: Float32Array, dims: readonly number[], layout: WeightLayout): Float32Array {
  const map = indexMap(dims, layout);
  const out = new Float32Array(map.length);
  for (let k = 0; k < map.length; k++) out[map[k]] = values[k];
  return out;
}
