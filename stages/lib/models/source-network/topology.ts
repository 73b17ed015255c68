/**
 * A pre-trained source network from a TensorFlow.js layers `model.json` (docs/your-data.md), read
 * without TensorFlow.js: the chain of layers, the input shape, the readout, and the blocks that
 * transfer depths count (each dense/conv layer with the activation, pooling and other weightless
 * layers that follow it, or the groups named in `source_blocks`). Everything here runs before
 * planning, so a network defrost cannot use is refused (exit 2) before anything runs.
 *
 * Supported: Sequential and functional models whose layers form one chain (each layer takes the
 * previous one's output), single input and output, weights in files beside model.json.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonObject, JsonValue } from '../../../../pipeline/stage.js';
import { DataFileError } from '../../formats/problem.js';

/** One layer of the chain, as model.json describes it (Keras-style snake_case config). */
export interface SourceLayer {
  readonly name: string;
  readonly className: string;
  readonly config: JsonObject;
}

export interface SourceTopology {
  /** Shape of one input sample (without the batch axis). */
  readonly inputShape: number[];
  /** The layers after the input, in order. */
  readonly layers: SourceLayer[];
}

/** How the chain splits for transfer: blocks 1..L, then the readout that is replaced. */
export interface SourceBlocks {
  /** Layer names of each block, in order. */
  readonly blocks: string[][];
  /** The readout layer (the last dense layer); it and anything after it are replaced. */
  readonly readout: string;
  /** Layers after the readout (a softmax): dropped, the new readout emits logits. */
  readonly dropped: string[];
}

/** Layers with the weights that make a block: a block starts at each of them. */
export const CORE_LAYER_CLASSES = ['Dense', 'Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'] as const;

const isCore = (layer: SourceLayer): boolean => (CORE_LAYER_CLASSES as readonly string[]).includes(layer.className);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shapeOf(config: Record<string, unknown>): number[] | null {
  const batch = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(batch)) return batch.slice(1).map(Number);
  if (Array.isArray(config.input_shape)) return config.input_shape.map(Number);
  return null;
}

/** The parsed model.json: its topology, the weight files it names, and the raw JSON. */
export interface SourceModelFile {
  readonly modelJson: string;
  readonly topology: SourceTopology;
  readonly weightFiles: string[];
}

/** Reads and checks `model.json` and its weight files (present, and as large as the weights need). */
export function readSourceModel(modelJson: string): SourceModelFile {
  const fail = (problem: string): never => {
    throw new DataFileError(modelJson, problem);
  };
  let text: string;
  try {
    if (statSync(modelJson).isDirectory()) fail('is a directory; give the path of its model.json');
    text = readFileSync(modelJson, 'utf8');
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(modelJson, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(json) || !isObject(json.modelTopology))
    return fail('not a TensorFlow.js layers model (no "modelTopology"; a graph model from tf.saved_model cannot be fine-tuned)');
  const top = isObject(json.modelTopology.model_config) ? json.modelTopology.model_config : json.modelTopology;
  const topology = chainOf(top, fail);

  const manifest = Array.isArray(json.weightsManifest) ? json.weightsManifest : fail('no "weightsManifest"');
  const weightFiles: string[] = [];
  let needBytes = 0;
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) return fail('malformed "weightsManifest"');
    for (const p of group.paths) weightFiles.push(join(dirname(modelJson), String(p)));
    for (const w of group.weights) {
      if (!isObject(w) || !Array.isArray(w.shape)) return fail('malformed weight entry in "weightsManifest"');
      if (w.dtype !== undefined && w.dtype !== 'float32')
        return fail(`weight ${String(w.name)} has dtype ${String(w.dtype)}; only float32 weights are supported`);
      if (w.quantization !== undefined) return fail(`weight ${String(w.name)} is quantized; convert the model without quantization`);
      needBytes += 4 * w.shape.reduce((a: number, b: unknown) => a * Number(b), 1);
    }
  }
  let haveBytes = 0;
  for (const f of weightFiles) {
    try {
      haveBytes += statSync(f).size;
    } catch {
      throw new DataFileError(f, `missing: ${modelJson} names it as a weights file`);
    }
  }
  if (haveBytes !== needBytes) fail(`the weight files hold ${haveBytes} bytes but the weights need ${needBytes}`);
  return { modelJson, topology, weightFiles };
}

/** The chain of layers of a Sequential or functional topology; anything else is refused. */
function chainOf(top: Record<string, unknown>, fail: (problem: string) => never): SourceTopology {
  const className = String(top.class_name);
  const config = top.config;
  const rawLayers = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : null;
  if (rawLayers === null) return fail(`model topology "${className}" lists no layers`);
  const layers: SourceLayer[] = [];
  let inputShape: number[] | null = null;
  let previous: string | null = null;
  for (const raw of rawLayers) {
    if (!isObject(raw) || !isObject(raw.config)) return fail('malformed layer entry in the model topology');
    const layerConfig = raw.config as JsonObject;
    const name = String(raw.name ?? layerConfig.name);
    const layerClass = String(raw.class_name);
    if (className !== 'Sequential' && Array.isArray(raw.inbound_nodes)) {
      const nodes = raw.inbound_nodes as unknown[];
      const inbound = nodes.flatMap((node) => (Array.isArray(node) ? node.map((t) => (Array.isArray(t) ? String(t[0]) : '?')) : ['?']));
      const expected = previous === null ? [] : [previous];
      if (layerClass !== 'InputLayer' && (nodes.length !== 1 || inbound.join() !== expected.join()))
        fail(`layer "${name}" takes [${inbound.join(', ')}]; only networks whose layers form one chain are supported`);
    }
    if (layerClass === 'InputLayer') {
      if (previous !== null) fail('more than one input layer; only single-input chains are supported');
      inputShape = shapeOf(layerConfig);
      previous = name;
      continue;
    }
    if (inputShape === null && layers.length === 0) inputShape = shapeOf(layerConfig);
    layers.push({ name, className: layerClass, config: { ...layerConfig, name } });
    previous = name;
  }
  if (inputShape === null || inputShape.some((d) => !Number.isInteger(d) || d <= 0))
    return fail('the input shape is not fixed (give the first layer an input shape)');
  if (layers.length === 0) return fail('the network has no layers');
  return { inputShape, layers };
}

/**
 * Splits the chain into blocks and readout. Derived: a block starts at each dense/conv layer
 * (the readout excepted) and takes the weightless layers after it; layers before the first
 * block join it. Explicit: `named` lists each block's layers; unnamed layers join the block
 * before them (or the first one).
 */
export function deriveBlocks(file: string, topology: SourceTopology, named: readonly (readonly string[])[] | null): SourceBlocks {
  const layers = topology.layers;
  let readoutIndex = -1;
  for (let i = layers.length - 1; i >= 0; i--)
    if (isCore(layers[i])) {
      readoutIndex = i;
      break;
    }
  if (readoutIndex < 0 || layers[readoutIndex].className !== 'Dense')
    throw new DataFileError(file, 'the last layer with weights must be a Dense readout (its units are the source classes)');
  const dropped = layers.slice(readoutIndex + 1).map((l) => l.name);
  const droppedWeighted = layers.slice(readoutIndex + 1).find((l) => l.className !== 'Activation' && l.className !== 'Softmax');
  if (droppedWeighted)
    throw new DataFileError(
      file,
      `layer "${droppedWeighted.name}" (${droppedWeighted.className}) follows the readout; only an activation may`,
    );
  const body = layers.slice(0, readoutIndex);
  const starts: number[] = [];
  if (named === null) {
    body.forEach((l, i) => {
      if (isCore(l)) starts.push(i);
    });
  } else {
    const index = new Map(body.map((l, i) => [l.name, i]));
    let last = -1;
    named.forEach((group, b) => {
      if (group.length === 0) throw new DataFileError(file, `source_blocks[${b}] is empty`);
      group.forEach((name, k) => {
        const i = index.get(name);
        if (i === undefined)
          throw new DataFileError(
            file,
            `source_blocks[${b}] names "${name}", which is not a layer before the readout; layers: ${body.map((l) => l.name).join(', ')}`,
          );
        if (i !== last + 1 && !(k === 0 && i > last))
          throw new DataFileError(
            file,
            `source_blocks[${b}]: "${name}" is out of order (blocks must list consecutive layers of the chain, in order)`,
          );
        if (k === 0) starts.push(i);
        last = i;
      });
    });
  }
  if (starts.length === 0) throw new DataFileError(file, 'no hidden block: the network has no dense or conv layer before its readout');
  const blocks = starts.map((start, b) => body.slice(b === 0 ? 0 : start, starts[b + 1] ?? body.length).map((l) => l.name));
  return { blocks, readout: layers[readoutIndex].name, dropped };
}

/** sha256 of model.json and its weight files: the network's identity in cache keys. */
export function fingerprintSourceModel(model: SourceModelFile): string {
  const hash = createHash('sha256').update(readFileSync(model.modelJson));
  for (const f of model.weightFiles) hash.update(readFileSync(f));
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

/** The JSON value of a layer config, for the canonical network (see canonical.ts). */
export type LayerConfig = JsonValue;
