/**
 * A pre-trained source network (docs/your-data.md#your-network), read without TensorFlow.js: an
 * ONNX file (../onnx/, `torch.onnx.export`) or a TensorFlow.js layers `model.json`
 * (layers-json.ts), both as one form: a graph of Keras-style layers with an input shape. Its
 * blocks are cut points of that graph (graph-blocks.ts): each dense/conv layer, or residual unit,
 * with the weightless layers after it, or the groups named in `source_blocks`. Everything here
 * runs before planning, so a network defrost cannot use is refused (exit 2), naming the file and
 * the reason, before anything runs; a file of another kind (a PyTorch checkpoint, a TensorFlow.js
 * graph model) is told which formats are read.
 *
 * Validated completely, whatever the format (docs/reliability.md, "Your files"): every file is
 * read through input-file.ts (a regular file of bounded size, checked before reading); the layers
 * are supported ones and hold exactly the weights their configs and the shapes reaching them call
 * for (layer-weights.ts), at most DEFROST_MAX_NETWORK_PARAMS, every value finite; the sha256 of
 * the bytes read is the network's identity, and the stages that load the network again check it
 * (`readSourceFiles`).
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { StageFailure } from '../../../../pipeline/errors.js';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { inputPathKind, readInputFile, readInputHead } from '../../formats/input-file.js';
import { DataFileError } from '../../formats/problem.js';
import { importOnnx, type ImportedNetwork } from '../onnx/import.js';
import { decodeOnnx, OnnxError } from '../onnx/proto.js';
import { graphBlocks, type GraphBlocks, type GraphLayer } from './graph-blocks.js';
import { expectedWeights, networkParamsLimit } from './layer-weights.js';
import { readLayersModelJson, type ManifestWeight } from './layers-json.js';

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
      /** sha256 of the files' bytes, in order, as they were read and checked. */
      readonly sha256: string;
    }
  | {
      readonly format: 'onnx';
      readonly path: string;
      readonly topology: SourceTopology;
      /** The imported network (layers, weights in TensorFlow.js order, where each came from). */
      readonly network: ImportedNetwork;
      readonly files: string[];
      readonly sha256: string;
    };

/** What to tell someone whose file is neither format. */
const FORMATS =
  'defrost reads ONNX files (torch.onnx.export(model.eval(), x, "net.onnx")) and TensorFlow.js layers model.json files ' +
  '(model.save() in TensorFlow.js, or tensorflowjs_converter --output_format tfjs_layers_model)';

/** Networks already checked: model.json's sha256 and its weight files' state, or the .onnx's sha256 and the weight limit. */
const checked = new Map<string, SourceModelFile>();

/** The state of files by their identity, size and time (weight files are not re-read while it holds). */
function stamp(files: readonly string[]): string {
  return files
    .map((f) => {
      const s = statSync(f);
      return `${f}:${s.ino}:${s.size}:${s.mtimeMs}`;
    })
    .join('|');
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Why a weight value is refused. */
function nonFinite(weight: string, value: number, index: number): string {
  return `weight ${weight} holds ${value} (value ${index}); a network with NaN or Inf weights cannot be trained`;
}

/**
 * Reads and checks a network file: .onnx or model.json (decided by the bytes, then the name),
 * completely (see above). Anything else is a DataFileError (exit 2) naming the file, the layer or
 * weight, and what is wrong.
 */
export function readSourceModel(path: string): SourceModelFile {
  const fail = (problem: string): never => {
    throw new DataFileError(path, problem);
  };
  if (inputPathKind(path) === 'directory') fail('is a directory; give the path of its model.json or .onnx file');
  const ext = extname(path).toLowerCase();
  const head = readInputHead(path, 64);
  const zip = head.length >= 4 && head.readUInt32BE(0) === 0x504b0304;
  if (['.pt', '.pth', '.ckpt', '.pkl'].includes(ext) || zip)
    return fail(`a PyTorch checkpoint (or another archive), which defrost cannot read; ${FORMATS}`);
  if (ext !== '.onnx' && (head.toString('utf8').trimStart().startsWith('{') || ext === '.json')) return readModelJson(path, fail);
  return readOnnx(path, ext, fail);
}

/** A TensorFlow.js layers model.json and its weight files (layers-json.ts), every value finite. */
function readModelJson(path: string, fail: (problem: string) => never): SourceModelFile {
  const { bytes } = readInputFile(path, { text: true });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return fail(`not JSON (${(error as Error).message}); ${FORMATS}`);
  }
  const { topology, weightFiles, weights } = readLayersModelJson(json, path, fail);
  const id = `${sha256(bytes)}#${path}#${stamp(weightFiles)}`;
  const known = checked.get(id);
  if (known) return known;
  const hash = createHash('sha256').update(bytes);
  const finite = finiteChecker(weights, fail);
  for (const f of weightFiles) {
    const shard = readInputFile(f).bytes;
    hash.update(shard);
    finite(shard);
  }
  const files = [path, ...weightFiles];
  const model: SourceModelFile = { format: 'tfjs-layers', path, topology, weightFiles, files, sha256: hash.digest('hex') };
  checked.set(id, model);
  return model;
}

/**
 * An ONNX file through the importer (../onnx/), its weights checked as a model.json's are: the
 * ones its layers must hold (the importer's layers through the same expectation), at most
 * DEFROST_MAX_NETWORK_PARAMS, every value finite.
 */
function readOnnx(path: string, ext: string, fail: (problem: string) => never): SourceModelFile {
  const { bytes, sha256: digest } = readInputFile(path);
  const id = `${digest}#${path}#${networkParamsLimit()}`;
  const known = checked.get(id);
  if (known) return known;
  let network: ImportedNetwork;
  try {
    network = importOnnx(decodeOnnx(bytes));
  } catch (error) {
    if (!(error instanceof OnnxError)) throw error;
    return fail(ext === '.onnx' ? error.message : `neither a model.json nor a readable ONNX file (${error.message}); ${FORMATS}`);
  }
  const [input, ...layers] = network.layers;
  const topology = { inputShape: [...network.inputShape], inputName: input.name, layers };
  const expected = expectedWeights(topology, fail);
  for (const w of network.weights) {
    const name = `${w.layer}/${w.weight}`;
    const want = expected.get(name);
    if (want === undefined || want.join(',') !== w.shape.join(','))
      return fail(
        `ONNX tensor "${w.source.tensor}" gives layer "${w.layer}" a ${w.weight} of shape [${w.shape.join(', ')}], ` +
          `but the layer needs ${want === undefined ? 'no such weight' : `[${want.join(', ')}]`}`,
      );
    expected.delete(name);
    const bad = w.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`${nonFinite(name, w.values[bad], bad)} (ONNX tensor "${w.source.tensor}")`);
  }
  if (expected.size > 0) fail(`the layers need the weights ${[...expected.keys()].join(', ')}, which the file does not give`);
  const model: SourceModelFile = { format: 'onnx', path, topology, network, files: [path], sha256: digest };
  checked.set(id, model);
  return model;
}

/**
 * Checks weight bytes as they are read, file after file (a float may straddle two files): every
 * value must be finite. The first NaN or Inf is refused, naming its weight.
 */
function finiteChecker(specs: readonly ManifestWeight[], fail: (problem: string) => never): (bytes: Buffer) => void {
  let index = 0; // float index over all weights
  let spec = 0;
  let specEnd = specs[0]?.size ?? 0;
  const carry = Buffer.alloc(4);
  let carried = 0;
  const check = (value: number): void => {
    while (index >= specEnd && spec < specs.length - 1) specEnd += specs[++spec].size;
    if (!Number.isFinite(value)) fail(nonFinite(specs[spec].name, value, index - (specEnd - specs[spec].size)));
    index++;
  };
  return (bytes) => {
    let at = 0;
    if (carried > 0) {
      const take = Math.min(4 - carried, bytes.length);
      bytes.copy(carry, carried, 0, take);
      carried += take;
      at = take;
      if (carried < 4) return;
      check(carry.readFloatLE(0));
      carried = 0;
    }
    for (; at + 4 <= bytes.length; at += 4) check(bytes.readFloatLE(at));
    if (at < bytes.length) carried = bytes.copy(carry, 0, at);
  };
}

/**
 * The network's files read again through input-file.ts, for the stages that load it
 * (import-source, fine-tune): they must be the bytes that were checked and keyed (same sha256),
 * else the stage fails naming the file and nothing is loaded.
 */
export function readSourceFiles(model: SourceModelFile): Buffer[] {
  const hash = createHash('sha256');
  const bytes = model.files.map((f, i) => {
    const b = readInputFile(f, { text: i === 0 && model.format === 'tfjs-layers' }).bytes;
    hash.update(b);
    return b;
  });
  if (hash.digest('hex') !== model.sha256)
    throw new StageFailure(`${model.path} or its weight files changed since they were checked; run the command again`);
  return bytes;
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

/**
 * sha256 of the network's files (model.json and its weights, or the .onnx): its identity in cache
 * keys, computed from the bytes that were checked as they were read.
 */
export function fingerprintSourceModel(model: SourceModelFile): string {
  return model.sha256;
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
