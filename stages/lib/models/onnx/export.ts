/**
 * A fine-tuned network written back as ONNX (docs/your-data.md#the-model-out): the user's own
 * ONNX file, every operator and attribute as it was, with each imported weight replaced by its
 * fine-tuned value in ONNX's order (weight-layout.ts), BatchNorm running statistics included. The
 * readout may have a new number of classes: its weight, bias and the graph output's shape
 * follow, and whatever came after the readout (a softmax) is dropped, so the model emits logits
 * as defrost trained it. Weights PyTorch had shared through an Identity (equal at export) get a
 * tensor each, since fine-tuning may have made them differ.
 */
import type onnxProto from 'onnx-proto';
import type { ImportedNetwork } from './import.js';
import { decodeOnnxProto, encodeOnnxProto, onnxSchema, OnnxError } from './proto.js';
import { toOnnxOrder } from './weight-layout.js';

type TensorProto = onnxProto.onnx.ITensorProto;

/** The new value of weight `weight` of imported layer `layer`, in TensorFlow.js order. */
export type WeightLookup = (layer: string, weight: string) => Float32Array | undefined;

export interface ExportOptions {
  /** The imported layer that is the readout (its units become `classes`). */
  readonly readout: string;
  readonly classes: number;
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, k) => view.setFloat32(4 * k, v, true));
  return onnxSchema().TensorProto.create({ name, dims: [...dims], dataType: onnxSchema().TensorProto.DataType.FLOAT, rawData: raw });
}

/** `original` (the imported file's bytes) with the weights `lookup` gives; throws OnnxError. */
export function exportOnnx(original: Uint8Array, network: ImportedNetwork, lookup: WeightLookup, options: ExportOptions): Uint8Array {
  const model = decodeOnnxProto(original);
  const graph = model.graph;
  if (!graph) throw new OnnxError('the original model has no graph');
  const nodes = [...(graph.node ?? [])];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));

  // The readout's ONNX output: the output of the last node the readout layer was made from.
  const readoutNodes = new Set(network.nodesOf.get(options.readout) ?? []);
  const readoutIndex = nodes.reduce((last, n, k) => (readoutNodes.has(n.name ?? '') ? k : last), -1);
  if (readoutIndex < 0) throw new OnnxError(`layer "${options.readout}" comes from no node of the model`);
  const readoutOutput = nodes[readoutIndex].output?.[0] ?? '';

  for (const w of network.weights) {
    const values = lookup(w.layer, w.weight);
    if (values === undefined) continue;
    const dims = [...w.source.dims];
    if (w.layer === options.readout) {
      if (w.source.layout.kind === 'dense') dims[w.source.layout.transposed ? 0 : 1] = options.classes;
      else dims[dims.length - 1] = options.classes;
    }
    if (values.length !== dims.reduce((a, b) => a * b, 1))
      throw new OnnxError(`weight ${w.layer}/${w.weight} has ${values.length} values for ONNX dims [${dims}]`);
    const tensor = floatTensor(w.source.tensor, dims, toOnnxOrder(values, dims, w.source.layout));
    initializers.set(w.source.tensor, tensor);
    // A weight read through an Identity of a shared initializer becomes an initializer itself.
    const alias = nodes.findIndex((n) => n.opType === 'Identity' && (n.output ?? [])[0] === w.source.tensor);
    if (alias >= 0) nodes.splice(alias, 1);
  }

  // Keep only what the readout's output needs; the readout's output becomes the graph output.
  const outputInfo = graph.output?.[0];
  if (!outputInfo) throw new OnnxError('the original model has no output');
  const outputName = outputInfo.name ?? '';
  const needed = new Set<string>([readoutOutput]);
  const kept: typeof nodes = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    kept.unshift(node);
    for (const i of node.input ?? []) if (i) needed.add(i);
  }
  if (readoutOutput !== outputName)
    for (const node of kept) node.output = (node.output ?? []).map((o) => (o === readoutOutput ? outputName : o));
  const dims = outputInfo.type?.tensorType?.shape?.dim;
  if (dims && dims.length === 2) dims[1] = onnxSchema().TensorShapeProto.Dimension.create({ dimValue: options.classes });

  const used = new Set(kept.flatMap((n) => n.input ?? []));
  graph.node = kept;
  graph.initializer = [...initializers.values()].filter((t) => used.has(t.name ?? ''));
  graph.input = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '') || used.has(i.name ?? ''));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => needed.has(v.name ?? '') && v.name !== readoutOutput);
  return encodeOnnxProto(model);
}
