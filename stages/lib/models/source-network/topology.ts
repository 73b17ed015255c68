/**
 * A pre-trained source network (docs/your-data.md#your-network), read without TensorFlow.js: an
 * ONNX file (../onnx/, `torch.onnx.export`) or a TensorFlow.js layers `model.json`
 * (layers-json.ts), both as one form: a graph of Keras-style layers with an input shape. Its
 * blocks are cut points of that graph (graph-blocks.ts): each dense/conv layer, or residual unit,
 * with the weightless layers after it, or the groups named in `source_blocks`. Everything here
 * runs before planning, so a network defrost cannot use is refused (exit 2), naming the file and
 * the reason, before anything runs; a file of another kind (a PyTorch checkpoint, a TensorFlow.js
 * graph model) is told which formats are read.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { DataFileError } from '../../formats/problem.js';
import { importOnnx, type ImportedNetwork } from '../onnx/import.js';
import { decodeOnnx, OnnxError } from '../onnx/proto.js';
import { graphBlocks, type GraphBlocks, type GraphLayer } from './graph-blocks.js';
import { readLayersModelJson } from './layers-json.js';

/** One layer of the network (Keras-style snake_case config, as model.json has it). */
export interface SourceLayer extends GraphLayer {
  readonly config: JsonObject;
}

export interface SourceTopology {
  /** Shape of one input sample (without the batch axis; NHWC for images). */
  readonly inputShape: number[];
  /** The input layer's name (the names in `inbound` refer to it). */
  readonly inputName: string;
  /** The layers after the input, every layer after the layers it takes. */
  readonly layers: SourceLayer[];
}

/** How the network splits for transfer: blocks 1..L, then the readout that is replaced. */
export type SourceBlocks = GraphBlocks;

/** A readable network: its graph, and the files whose bytes it is. */
export type SourceModelFile =
  | {
      readonly format: 'tfjs-layers';
      /** model.json */
      readonly path: string;
      readonly topology: SourceTopology;
      readonly weightFiles: string[];
      /** model.json and its weight files. */
      readonly files: string[];
    }
  | {
      readonly format: 'onnx';
      readonly path: string;
      readonly topology: SourceTopology;
      /** The imported network (layers, weights in TensorFlow.js order, where each came from). */
      readonly network: ImportedNetwork;
      readonly files: string[];
    };

/** What to tell someone whose file is neither format. */
const FORMATS =
  'defrost reads ONNX files (torch.onnx.export(model.eval(), x, "net.onnx")) and TensorFlow.js layers model.json files ' +
  '(model.save() in TensorFlow.js, or tensorflowjs_converter --output_format tfjs_layers_model)';

/** Reads and checks a network file: .onnx or model.json (decided by the bytes, then the name). */
export function readSourceModel(path: string): SourceModelFile {
  const fail = (problem: string): never => {
    throw new DataFileError(path, problem);
  };
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) fail('is a directory; give the path of its model.json or .onnx file');
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (error as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  const zip = bytes.length >= 4 && bytes.readUInt32BE(0) === 0x504b0304;
  if (['.pt', '.pth', '.ckpt', '.pkl'].includes(ext) || zip)
    return fail(`a PyTorch checkpoint (or another archive), which defrost cannot read; ${FORMATS}`);
  const text = bytes.subarray(0, 64).toString('utf8').trimStart();
  if (ext !== '.onnx' && (text.startsWith('{') || ext === '.json')) {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      return fail(`not JSON (${(error as Error).message}); ${FORMATS}`);
    }
    const { topology, weightFiles } = readLayersModelJson(json, path, fail);
    return { format: 'tfjs-layers', path, topology, weightFiles, files: [path, ...weightFiles] };
  }
  let network: ImportedNetwork;
  try {
    network = importOnnx(decodeOnnx(bytes));
  } catch (error) {
    if (!(error instanceof OnnxError)) throw error;
    return fail(ext === '.onnx' ? error.message : `neither a model.json nor a readable ONNX file (${error.message}); ${FORMATS}`);
  }
  const [input, ...layers] = network.layers;
  return {
    format: 'onnx',
    path,
    topology: { inputShape: [...network.inputShape], inputName: input.name, layers },
    network,
    files: [path],
  };
}

/**
 * Splits the network into blocks and readout (graph-blocks.ts): derived, or named by `named`
 * (`source_blocks`), each boundary a cut of the graph.
 */
export function deriveBlocks(file: string, topology: SourceTopology, named: readonly (readonly string[])[] | null): SourceBlocks {
  return graphBlocks(topology.layers, named, (problem) => {
    throw new DataFileError(file, problem);
  });
}

/** sha256 of the network's files (model.json and its weights, or the .onnx): its identity in cache keys. */
export function fingerprintSourceModel(model: SourceModelFile): string {
  const hash = createHash('sha256');
  for (const f of model.files) hash.update(readFileSync(f));
  return hash.digest('hex');
}

/**
 * Can data of `dataShape` feed a network taking `inputShape`? Equal shapes, or equal sizes when
 * one side is flat (flattened images into a dense network, or the reverse).
 */
export function inputShapeFits(dataShape: readonly number[], inputShape: readonly number[]): boolean {
  if (dataShape.join('x') === inputShape.join('x')) return true;
  const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  return (dataShape.length === 1 || inputShape.length === 1) && size(dataShape) === size(inputShape);
}

/**
 * How image folders are decoded for a network taking `inputShape`: its [height, width] and its
 * channels (1 or 3) when it takes images, else nothing fixed (the images' own size). `defrost
 * recommend` and a study with `source_model` both start from these, and options given by the user
 * (`--image-size`/`--channels`, `task.images`) replace them.
 */
export function networkImageOptions(inputShape: readonly number[]): { size: [number, number] | null; channels: 1 | 3 | null } {
  if (inputShape.length !== 3) return { size: null, channels: null };
  const c = inputShape[2];
  return { size: [inputShape[0], inputShape[1]], channels: c === 1 || c === 3 ? c : null };
}
