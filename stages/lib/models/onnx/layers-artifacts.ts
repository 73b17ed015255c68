/**
 * An imported network (import.ts) in TensorFlow.js's layers model.json form: a functional `Model`
 * topology (one entry per layer with its inbound layers) and the weights in one buffer, in the
 * order of the weight specs. `tf.io.fromMemory` loads it like a model.json from disk, so the rest
 * of defrost reads an ONNX network exactly as it reads a TensorFlow.js one. Pure data (no
 * TensorFlow.js).
 */
import type { JsonObject } from '../../../../pipeline/stage.js';
import type { ImportedNetwork, LayerSpec } from './import.js';

export interface LayersArtifacts {
  readonly modelTopology: JsonObject;
  readonly weightSpecs: { name: string; shape: number[]; dtype: 'float32' }[];
  readonly weightData: ArrayBuffer;
}

/** The functional topology of `layers` (input layer first), its output `output`. */
export function functionalTopology(name: string, layers: readonly LayerSpec[], output: string): JsonObject {
  return {
    class_name: 'Model',
    config: {
      name,
      layers: layers.map((l) => ({
        name: l.name,
        class_name: l.className,
        config: l.config,
        inbound_nodes: l.inbound.length === 0 ? [] : [l.inbound.map((i) => [i, 0, 0, {}])],
      })),
      input_layers: [[layers[0].name, 0, 0]],
      output_layers: [[output, 0, 0]],
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
}

export function layersArtifacts(network: ImportedNetwork): LayersArtifacts {
  const size = network.weights.reduce((s, w) => s + w.values.length, 0);
  const data = new Float32Array(size);
  let offset = 0;
  const weightSpecs = network.weights.map((w) => {
    data.set(w.values, offset);
    offset += w.values.length;
    return { name: `${w.layer}/${w.weight}`, shape: [...w.shape], dtype: 'float32' as const };
  });
  return { modelTopology: functionalTopology('onnx_import', network.layers, network.output), weightSpecs, weightData: data.buffer };
}
