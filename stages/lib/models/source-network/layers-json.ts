/**
 * A TensorFlow.js layers `model.json` (docs/your-data.md#your-network) read without TensorFlow.js:
 * its layer graph (Sequential, or functional with branches: `Add`, `Concatenate`...), its input
 * shape and its weight files, checked against what the layers must hold (layer-weights.ts): the
 * manifest lists exactly those weights, by name and shape, float32, and its files lie inside the
 * model's folder and hold exactly their bytes (topology.ts then reads them, checking every value
 * is finite). The layers come out in the form the rest of defrost uses
 * for every network (topology.ts), written the way TensorFlow.js's own loader understands, so a
 * model.json written by Keras 3 loads too: its input's `batch_shape`, its dtype policies and its
 * inbound nodes (`{args, kwargs}` with `keras_history`) are turned into TensorFlow.js's forms.
 * Initializers, regularizers and constraints are dropped: defrost copies the weights and draws
 * fresh ones from its own seeded streams (canonical.ts).
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { checkInsideFolder, inputPathKind } from '../../formats/input-file.js';
import { DataFileError } from '../../formats/problem.js';
import { expectedWeights } from './layer-weights.js';
import type { SourceLayer, SourceTopology } from './topology.js';

/** One weight as the manifest lists it, in the order its values lie in the weight files. */
export interface ManifestWeight {
  readonly name: string;
  /** Number of float32 values. */
  readonly size: number;
}

export interface LayersModelFile {
  readonly topology: SourceTopology;
  readonly weightFiles: string[];
  readonly weights: ManifestWeight[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shapeOf(config: Record<string, unknown>): number[] | null {
  const batch = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(batch)) return batch.slice(1).map(Number);
  if (Array.isArray(config.input_shape)) return config.input_shape.map(Number);
  return null;
}

/** A layer config as TensorFlow.js reads it: Keras 3's spellings turned into Keras 2's, no initializers. */
function cleanConfig(config: Record<string, unknown>, name: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(config)) {
    if (/_(initializer|regularizer|constraint)$/.test(key) || key === 'batch_shape' || key === 'batch_input_shape' || key === 'input_shape')
      continue;
    // Keras 3: {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}.
    if (key === 'dtype' && isObject(value))
      out.dtype = isObject(value.config) && typeof value.config.name === 'string' ? value.config.name : 'float32';
    else out[key] = value as JsonObject[string];
  }
  out.name = name;
  return out;
}

/** The layer names a Keras 3 call's arguments read (`keras_history`), in order. */
function kerasHistories(value: unknown, into: string[]): void {
  if (Array.isArray(value)) value.forEach((v) => kerasHistories(v, into));
  else if (isObject(value)) {
    if (isObject(value.config) && Array.isArray(value.config.keras_history)) into.push(String(value.config.keras_history[0]));
    else Object.values(value).forEach((v) => kerasHistories(v, into));
  }
}

/** The layers a functional layer takes, from TensorFlow.js/Keras 2 or Keras 3 inbound nodes. */
function inboundOf(raw: Record<string, unknown>, name: string, fail: (problem: string) => never): string[] {
  const nodes = Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1) fail(`layer "${name}" is applied ${nodes.length} times; shared layers are not supported`);
  const node = nodes[0];
  if (Array.isArray(node)) return node.map((t) => (Array.isArray(t) ? String(t[0]) : '?'));
  if (isObject(node)) {
    const names: string[] = [];
    kerasHistories(node.args, names);
    return names;
  }
  return fail(`layer "${name}": malformed inbound nodes`);
}

/**
 * The layer graph of a Sequential or functional topology (a model.json's `modelTopology`, or what
 * a TensorFlow.js model's `toJSON` gives); anything else is refused.
 */
export function layersGraphOf(top: Record<string, unknown>, fail: (problem: string) => never): SourceTopology {
  const className = String(top.class_name);
  const config = top.config;
  const rawLayers = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : null;
  if (rawLayers === null) return fail(`model topology "${className}" lists no layers`);
  const sequential = className === 'Sequential';
  if (!sequential && isObject(config)) {
    const outputs = Array.isArray(config.output_layers) ? config.output_layers : [];
    if (outputs.length > 1 && Array.isArray(outputs[0]))
      fail(`the network has ${outputs.length} outputs; defrost needs one (the class scores)`);
  }
  const layers: SourceLayer[] = [];
  const known = new Set<string>();
  let inputShape: number[] | null = null;
  // A Sequential model may declare its input on its first layer: the input layer is then implicit.
  const names = new Set(rawLayers.map((raw) => (isObject(raw) ? String(raw.name ?? (isObject(raw.config) ? raw.config.name : '')) : '')));
  let inputName = 'input';
  for (let k = 1; names.has(inputName); k++) inputName = `input_${k}`;
  if (sequential) known.add(inputName);
  let previous: string | null = null;
  for (const raw of rawLayers) {
    if (!isObject(raw) || !isObject(raw.config)) return fail('malformed layer entry in the model topology');
    const name = String(raw.name ?? raw.config.name);
    const layerClass = String(raw.class_name);
    if (layerClass === 'InputLayer') {
      if (inputShape !== null || layers.length > 0) fail('more than one input layer; only single-input networks are supported');
      inputShape = shapeOf(raw.config);
      known.delete(inputName);
      inputName = name;
      known.add(name);
      previous = name;
      continue;
    }
    if (inputShape === null && layers.length === 0) inputShape = shapeOf(raw.config);
    let inbound = sequential ? (previous === null ? [inputName] : [previous]) : inboundOf(raw, name, fail);
    if (!sequential && inbound.length === 0) inbound = [inputName];
    for (const i of inbound)
      if (!known.has(i))
        fail(`layer "${name}" takes "${i}", which is not a layer before it; the layers must be listed with their inputs first`);
    layers.push({ name, className: layerClass, config: cleanConfig(raw.config, name), inbound });
    known.add(name);
    previous = name;
  }
  if (inputShape === null || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d <= 0))
    return fail('the input shape is not fixed (give the first layer an input shape)');
  if (layers.length === 0) return fail('the network has no layers');
  return { inputShape, inputName, layers };
}

/**
 * Reads a parsed model.json (`json`, from file `modelJson`): its graph of supported layers and its
 * weight files: present, inside the model's folder, listing exactly the weights the layers hold
 * (names and shapes), float32, not quantized, as large as the weights need. `fail` names the file.
 */
export function readLayersModelJson(json: unknown, modelJson: string, fail: (problem: string) => never): LayersModelFile {
  if (!isObject(json)) return fail('not a TensorFlow.js layers model (not a JSON object)');
  if (json.format === 'graph-model' || (isObject(json.modelTopology) && Array.isArray(json.modelTopology.node)))
    return fail(
      'a TensorFlow.js graph model, which cannot be fine-tuned; defrost reads ONNX files (torch.onnx.export) and TensorFlow.js ' +
        'layers models (tensorflowjs_converter --output_format tfjs_layers_model)',
    );
  if (!isObject(json.modelTopology))
    return fail(
      'not a TensorFlow.js layers model (no "modelTopology"); defrost reads ONNX files and TensorFlow.js layers model.json files',
    );
  const top = isObject(json.modelTopology.model_config) ? json.modelTopology.model_config : json.modelTopology;
  const topology = layersGraphOf(top, fail);

  const expected = expectedWeights(topology, fail);

  const folder = dirname(modelJson);
  const manifest = Array.isArray(json.weightsManifest) ? json.weightsManifest : fail('no "weightsManifest"');
  const weightFiles: string[] = [];
  const weights: ManifestWeight[] = [];
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) return fail('malformed "weightsManifest"');
    for (const p of group.paths) {
      if (typeof p !== 'string' || p.length === 0 || isAbsolute(p) || p.includes('\0'))
        return fail(`weights path ${JSON.stringify(p)} is not a file name relative to the model's folder`);
      const file = resolve(folder, p);
      const rel = relative(folder, file);
      if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`))
        return fail(`weights path ${JSON.stringify(p)} leads out of the model's folder ${folder}; weight files must lie beside model.json`);
      weightFiles.push(file);
    }
    for (const w of group.weights) {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) return fail('malformed weight entry in "weightsManifest"');
      if (w.dtype !== undefined && w.dtype !== 'float32')
        return fail(`weight ${w.name} has dtype ${String(w.dtype)}; only float32 weights are supported`);
      if (w.quantization !== undefined) return fail(`weight ${w.name} is quantized; convert the model without quantization`);
      const want = expected.get(w.name);
      if (want === undefined)
        return fail(
          weights.some((s) => s.name === w.name)
            ? `weight ${w.name} is listed twice in "weightsManifest"`
            : `weight ${w.name} belongs to no layer of the network (expected: ${[...expected.keys()].slice(0, 12).join(', ')})`,
        );
      const shape = w.shape.map(Number);
      if (shape.join(',') !== want.join(','))
        return fail(
          `weight ${w.name} has shape [${w.shape.join(', ')}], but its layer needs [${want.join(', ')}] (transposed, or another layer's?)`,
        );
      expected.delete(w.name);
      weights.push({ name: w.name, size: shape.reduce((a, b) => a * b, 1) });
    }
  }
  if (expected.size > 0) fail(`"weightsManifest" lacks the weights ${[...expected.keys()].join(', ')}`);
  let haveBytes = 0;
  for (const f of weightFiles) {
    try {
      // A link may not lead out of the folder; the file must be a regular one (not a FIFO...).
      checkInsideFolder(folder, f);
      if (inputPathKind(f) === 'directory') fail(`names the weights file ${f}, which is a directory`);
    } catch (error) {
      if (error instanceof DataFileError && error.problem === 'no such file or directory')
        return fail(`names the weights file ${f}, which is missing`);
      throw error;
    }
    haveBytes += statSync(f).size;
  }
  const needBytes = 4 * weights.reduce((a, w) => a + w.size, 0);
  if (haveBytes !== needBytes) fail(`the weight files hold ${haveBytes} bytes but the weights need ${needBytes}`);
  return { topology, weightFiles, weights };
}
