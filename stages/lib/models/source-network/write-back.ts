/**
 * A fine-tuned network in the form its user gave it (docs/your-data.md#the-model-out): defrost
 * trains the canonical network (canonical.ts: layers renamed `block<i>_<name>`, readout
 * `readout`, linear), and this writes it back under the user's own names:
 * - an ONNX source as ONNX (../onnx/export.ts: the original file with the fine-tuned weights, the
 *   readout resized to the target classes, logits out), `model.onnx`;
 * - a TensorFlow.js source as a TensorFlow.js layers model (`model.json` + `weights.bin`) with
 *   its own layer names, the readout linear (anything after it dropped, as in training), and the
 *   same network as ONNX (`model.onnx`, onnx-writer.ts), for onnxruntime and PyTorch.
 *
 * Imports TensorFlow.js statically: load with `await import(...)` from stage code.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { saveNetwork } from '../models.js';
import { exportOnnx } from '../onnx/export.js';
import { OnnxError } from '../onnx/proto.js';
import { canonicalNames } from './canonical.js';
import { layersGraphOf } from './layers-json.js';
import { layersToOnnx } from './onnx-writer.js';
import type { SourceBlocks, SourceModelFile } from './topology.js';

/** The fine-tuned values of every weight, by the user's layer name and the weight's own name. */
function weightsByOriginalName(model: tf.LayersModel, blocks: SourceBlocks): Map<string, Map<string, Float32Array>> {
  const out = new Map<string, Map<string, Float32Array>>();
  for (const [original, canonical] of canonicalNames(blocks)) {
    const layer = model.getLayer(canonical);
    const values = new Map<string, Float32Array>();
    for (const w of layer.weights) values.set(ownName(w), w.read().dataSync() as Float32Array);
    out.set(original, values);
  }
  return out;
}

/** The weight's own name: `kernel` of `block1_conv/kernel`. */
const ownName = (w: tf.LayerVariable): string => w.originalName.split('/').pop() ?? w.originalName;

/** `model` (a TensorFlow.js layers network) as ONNX (onnx-writer.ts); throws OnnxError naming a layer it cannot write. */
export function layersModelToOnnx(model: tf.LayersModel): Uint8Array {
  const topology = model.toJSON(null, false) as JsonObject;
  const graph = layersGraphOf(topology, (problem) => {
    throw new OnnxError(problem);
  });
  return layersToOnnx({ ...graph, output: model.outputs[0].sourceLayer.name }, (layer, weight) => {
    const variable = model.getLayer(layer).weights.find((w) => ownName(w) === weight);
    return variable === undefined ? undefined : (variable.read().dataSync() as Float32Array);
  });
}

/** The files written into `dir`. */
export async function writeFineTuned(
  model: tf.LayersModel,
  source: SourceModelFile,
  originalBytes: Uint8Array,
  blocks: SourceBlocks,
  classes: number,
  dir: string,
): Promise<string[]> {
  if (source.format === 'onnx') {
    const values = weightsByOriginalName(model, blocks);
    const bytes = exportOnnx(originalBytes, source.network, (layer, weight) => values.get(layer)?.get(weight), {
      readout: blocks.readout,
      classes,
    });
    await writeFile(join(dir, 'model.onnx'), bytes);
    return ['model.onnx'];
  }
  // The canonical topology with the user's names back (the input stays `input`).
  const back = new Map([...canonicalNames(blocks)].map(([original, canonical]) => [canonical, original]));
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as JsonObject;
  const config = topology.config as JsonObject;
  const rename = (name: unknown): string => back.get(String(name)) ?? String(name);
  for (const layer of config.layers as JsonObject[]) {
    layer.name = rename(layer.name);
    (layer.config as JsonObject).name = layer.name;
    layer.inbound_nodes = (layer.inbound_nodes as JsonObject[][][]).map((node) => node.map(([name, ...rest]) => [rename(name), ...rest]));
  }
  config.output_layers = (config.output_layers as unknown[][]).map(([name, ...rest]) => [rename(name), ...rest]) as JsonObject[string];
  const renamed = await tf.models.modelFromJSON({ modelTopology: topology });
  try {
    for (const layer of renamed.layers) {
      const weights = model.getLayer(canonicalNames(blocks).get(layer.name) ?? layer.name).getWeights();
      if (weights.length > 0) layer.setWeights(weights);
    }
    await saveNetwork(renamed, dir);
    await writeFile(join(dir, 'model.onnx'), layersModelToOnnx(renamed));
  } finally {
    renamed.dispose();
  }
  return ['model.json', 'weights.bin', 'model.onnx'];
}
