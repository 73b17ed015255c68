/**
 * The ONNX fixtures made with PyTorch (test/fixtures/onnx/make_fixtures.py) and helpers to read
 * them: the file of each network at each opset, its 64 inputs (NCHW, as PyTorch takes them) and
 * PyTorch's logits, and a way to change a fixture's protobuf for the refusal and fuzz tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type onnxProto from 'onnx-proto';
import { parseNpyArray } from '../stages/lib/formats/npy.js';
import { decodeOnnxProto, encodeOnnxProto } from '../stages/lib/models/onnx/proto.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'onnx');

/** Each fixture file with the network whose inputs and logits it shares. */
export const ONNX_FILES = [
  { file: 'resnet8-opset13.onnx', network: 'resnet8' },
  { file: 'resnet8-opset17.onnx', network: 'resnet8' },
  { file: 'resnet8-folded-opset13.onnx', network: 'resnet8' },
  { file: 'mobile-opset13.onnx', network: 'mobile' },
  { file: 'mobile-opset17.onnx', network: 'mobile' },
  { file: 'mixed-opset13.onnx', network: 'mixed' },
  { file: 'mixed-opset17.onnx', network: 'mixed' },
] as const;

export function fixtureBytes(file: string): Buffer {
  return readFileSync(join(FIXTURES, file));
}

function npy(file: string): { shape: number[]; values: Float32Array } {
  const array = parseNpyArray(readFileSync(join(FIXTURES, file)), file);
  if (array.kind !== 'number') throw new Error(`${file}: not numbers`);
  return { shape: array.shape, values: Float32Array.from(array.values) };
}

/** The 64 inputs of a network, NCHW [64, C, H, W], and PyTorch's logits [64, classes]. */
export function fixtureData(network: string): {
  inputs: { shape: number[]; values: Float32Array };
  logits: { shape: number[]; values: Float32Array };
} {
  return { inputs: npy(`${network}.inputs.npy`), logits: npy(`${network}.logits.npy`) };
}

/** NCHW values as NHWC (what defrost's networks and data take). */
export function toNhwc(values: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(values.length);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((i * h + y) * w + x) * c + k] = values[((i * c + k) * h + y) * w + x];
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let k = 0; k < a.length; k++) max = Math.max(max, Math.abs(a[k] - b[k]));
  return max;
}

/** A fixture with its protobuf changed by `edit`, as bytes. */
export function editedFixture(file: string, edit: (model: onnxProto.onnx.ModelProto) => void): Uint8Array {
  const model = decodeOnnxProto(fixtureBytes(file));
  edit(model);
  return encodeOnnxProto(model);
}
