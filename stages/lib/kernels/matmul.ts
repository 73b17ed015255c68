/**
 * `BatchMatMul` and `_FusedMatMul` for the wasm backend on OpenBLAS sgemm, in place on the wasm
 * heap. Batch dimensions broadcast like NumPy; transposes are passed to sgemm rather than
 * materialised. Anything the addon does not cover (non-float32, a bias varying along rows)
 * goes to the stock wasm kernel.
 */
import type { _FusedMatMulAttrs, BatchMatMulAttrs, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { encodeEpilogue } from './epilogue.js';
import type { NativeKernels } from './native-addon.js';
import { asWasmBackend, floatOffset, heapBuffer, input, sizeOf } from './wasm-heap.js';

interface MatMulArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

/** Output shape and per-batch operand strides (in elements) of a broadcasting batched matmul. */
interface MatMulPlan {
  outShape: number[];
  m: number;
  n: number;
  k: number;
  /** Batch index pairs [aBatch, bBatch] per output batch, or null when strides suffice. */
  pairs: Array<[number, number]> | null;
  batch: number;
  aStride: number;
  bStride: number;
}

function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`matMul: batch dimensions [${a}] and [${b}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into `shape` (right-aligned to `coords`, size-1 dims broadcast) of an output coordinate. */
function broadcastIndex(coords: number[], shape: number[]): number {
  let index = 0;
  const offset = coords.length - shape.length;
  for (let i = 0; i < shape.length; i++) {
    index = index * shape[i] + (shape[i] === 1 ? 0 : coords[offset + i]);
  }
  return index;
}

export function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan {
  if (aShape.length < 2 || bShape.length < 2) throw new Error('matMul: operands need rank >= 2');
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const ka = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (ka !== kb) {
    throw new Error(
      `matMul: inner shapes (${ka}) and (${kb}) of [${aShape}] and [${bShape}] ` +
        `(transposeA=${transposeA}, transposeB=${transposeB}) must match`,
    );
  }
  const aBatchShape = aShape.slice(0, -2);
  const bBatchShape = bShape.slice(0, -2);
  const outBatchShape = broadcastShape(aBatchShape, bBatchShape);
  const batch = sizeOf(outBatchShape);
  const batchA = sizeOf(aBatchShape);
  const batchB = sizeOf(bBatchShape);
  const sizeA = m * ka;
  const sizeB = ka * n;
  let pairs: Array<[number, number]> | null = null;
  let aStride = batchA === 1 ? 0 : sizeA;
  let bStride = batchB === 1 ? 0 : sizeB;
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
    // Genuine multi-axis broadcasting ([2,1] x [1,3]): map every output batch explicitly.
    pairs = [];
    const coords = new Array<number>(outBatchShape.length).fill(0);
    for (let i = 0; i < batch; i++) {
      pairs.push([broadcastIndex(coords, aBatchShape), broadcastIndex(coords, bBatchShape)]);
      for (let d = coords.length - 1; d >= 0; d--) {
        if (++coords[d] < outBatchShape[d]) break;
        coords[d] = 0;
      }
    }
    aStride = sizeA;
    bStride = sizeB;
  }
  return { outShape: [...outBatchShape, m, n], m, n, k: ka, pairs, batch, aStride, bStride };
}

function runMatMul(
  addon: NativeKernels,
  rawBackend: unknown,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epilogue: (cols: number) => number[] | null,
  alpha: number,
): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const backend = asWasmBackend(rawBackend);
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const tail = epilogue(plan.n);
  if (tail === null) return null;
  const out = backend.makeOutput(plan.outShape, 'float32');
  if (sizeOf(plan.outShape) === 0) return out;
  const aOff = floatOffset(backend, a);
  const bOff = floatOffset(backend, b);
  const cOff = floatOffset(backend, out);
  const cSize = plan.m * plan.n;
  const heap = heapBuffer(backend);
  const common = [Number(transposeA), Number(transposeB), plan.m, plan.n, plan.k];
  if (plan.pairs === null) {
    const params = Int32Array.from([plan.batch, ...common, aOff, plan.aStride, bOff, plan.bStride, cOff, cSize, ...tail]);
    addon.matMul(heap, params, alpha);
  } else {
    plan.pairs.forEach(([ia, ib], i) => {
      const params = Int32Array.from([
        1,
        ...common,
        aOff + ia * plan.aStride,
        0,
        bOff + ib * plan.bStride,
        0,
        cOff + i * cSize,
        0,
        ...tail,
      ]);
      addon.matMul(heap, params, alpha);
    });
  }
  return out;
}

export function makeBatchMatMul(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: MatMulArgs) => {
    const a = input(args.inputs, 'a');
    const b = input(args.inputs, 'b');
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const out = runMatMul(addon, args.backend, a, b, transposeA, transposeB, () => [-1, 0, 0, -1, 0], 0);
    if (out !== null) return out;
    if (!stock) throw new Error('BatchMatMul: unsupported inputs for the OpenBLAS kernel');
    return stock(args as Parameters<KernelFunc>[0]);
  }) as KernelFunc;
}

export function makeFusedMatMul(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: MatMulArgs) => {
    const a = input(args.inputs, 'a');
    const b = input(args.inputs, 'b');
    const { bias, preluActivationWeights } = args.inputs;
    const attrs = args.attrs as unknown as _FusedMatMulAttrs;
    const backend = asWasmBackend(args.backend);
    const out = runMatMul(
      addon,
      args.backend,
      a,
      b,
      attrs.transposeA,
      attrs.transposeB,
      (cols) => encodeEpilogue(backend, cols, attrs.activation, bias, preluActivationWeights),
      attrs.leakyreluAlpha ?? 0.2,
    );
    if (out !== null) return out;
    if (!stock) throw new Error('_FusedMatMul: unsupported inputs for the OpenBLAS kernel');
    return stock(args as Parameters<KernelFunc>[0]);
  }) as KernelFunc;
}
