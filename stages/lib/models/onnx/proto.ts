/**
 * An ONNX file as plain, checked data (docs/your-data.md#onnx): the protobuf is decoded with the
 * `onnx-proto` package (the ONNX project's `onnx.proto`, compiled for protobufjs) and copied into
 * the small structures below, with every number a JavaScript number and every tensor's values in
 * a typed array of the size its dims say. Nothing past this file sees protobuf objects, `Long`s or
 * optional fields, and a truncated or corrupted file fails here with an `OnnxError` (never a stack
 * trace, never an allocation its dims do not justify).
 */
import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';

type Schema = typeof onnxProto.onnx;
let loaded: Schema | null = null;

/**
 * The compiled ONNX schema, loaded on first use: building it takes ~0.2 s, and the modules that
 * read networks are imported by the planner and the config checks of every command.
 */
export function onnxSchema(): Schema {
  loaded ??= (createRequire(import.meta.url)('onnx-proto') as typeof onnxProto).onnx;
  return loaded;
}

/** A file defrost cannot use, with the reason in words (the caller names the file; exit 2). */
export class OnnxError extends Error {}

/** `TensorProto.DataType` values defrost reads. */
export const DATA_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, float16: 10, double: 11, bfloat16: 16 } as const;

/** ONNX's names of its element types, for messages. */
const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

export function typeName(dataType: number): string {
  return TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

/** A constant tensor (an initializer or a Constant node's value). */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** float32 values for float tensors, numbers for integer ones; null for other types. */
  readonly floats: Float32Array | null;
  readonly integers: readonly number[] | null;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly f: number | null;
  readonly i: number | null;
  readonly s: string | null;
  readonly t: OnnxTensor | null;
  readonly floats: readonly number[];
  readonly ints: readonly number[];
}

export interface OnnxNode {
  /** The node's name, or `<op>#<index>` when the file gives none. */
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
}

/** A graph input or output: its element type and dims (a number, a symbolic name, or unknown). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number | null;
  readonly dims: readonly (number | string | null)[] | null;
}

export interface OnnxModel {
  readonly irVersion: number;
  /** Opset version per operator domain ('' is the default ONNX domain). */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producer: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** Largest tensor defrost reads (2^28 values, 1 GiB of float32): a bigger dim is a corrupt file. */
const MAX_VALUES = 2 ** 28;

type LongLike = number | { toNumber(): number };

function num(value: LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function text(value: Uint8Array | null | undefined): string {
  return value ? Buffer.from(value).toString('utf8') : '';
}

function tensorOf(proto: onnxProto.onnx.ITensorProto, fallbackName: string): OnnxTensor {
  const name = proto.name || fallbackName;
  const dims = (proto.dims ?? []).map(num);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxError(`tensor "${name}" has dims [${dims}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_VALUES) throw new OnnxError(`tensor "${name}" has dims [${dims}] (${count} values): too large`);
  const dataType = proto.dataType ?? 0;
  if (proto.dataLocation === onnxSchema().TensorProto.DataLocation.EXTERNAL || (proto.externalData ?? []).length > 0)
    throw new OnnxError(`tensor "${name}" keeps its values in an external file; export the model with its weights inside the .onnx file`);
  const raw = proto.rawData && proto.rawData.length > 0 ? proto.rawData : null;
  const sizeError = (have: number): OnnxError =>
    new OnnxError(`tensor "${name}" of dims [${dims}] holds ${have} values instead of ${count} (a truncated or corrupt file?)`);
  let floats: Float32Array | null = null;
  let integers: number[] | null = null;
  if (dataType === DATA_TYPE.float) {
    if (raw) {
      if (raw.length !== 4 * count) throw sizeError(raw.length / 4);
      floats = new Float32Array(count);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let k = 0; k < count; k++) floats[k] = view.getFloat32(4 * k, true);
    } else {
      const values = proto.floatData ?? [];
      if (values.length !== count) throw sizeError(values.length);
      floats = Float32Array.from(values);
    }
  } else if (dataType === DATA_TYPE.int64 || dataType === DATA_TYPE.int32) {
    const width = dataType === DATA_TYPE.int64 ? 8 : 4;
    if (raw) {
      if (raw.length !== width * count) throw sizeError(raw.length / width);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      integers = Array.from({ length: count }, (_, k) =>
        width === 8 ? Number(view.getBigInt64(8 * k, true)) : view.getInt32(4 * k, true),
      );
    } else {
      const values = dataType === DATA_TYPE.int64 ? (proto.int64Data ?? []).map(num) : (proto.int32Data ?? []);
      if (values.length !== count) throw sizeError(values.length);
      integers = values.map(Number);
    }
  }
  return { name, dims, dataType, floats, integers };
}

function attributeOf(proto: onnxProto.onnx.IAttributeProto, node: string): OnnxAttribute {
  const name = proto.name ?? '';
  return {
    name,
    f: proto.f ?? null,
    i: proto.i === null || proto.i === undefined ? null : num(proto.i),
    s: proto.s && proto.s.length > 0 ? text(proto.s) : null,
    t: proto.t ? tensorOf(proto.t, `${node}.${name}`) : null,
    floats: proto.floats ?? [],
    ints: (proto.ints ?? []).map(num),
  };
}

function valueInfoOf(proto: onnxProto.onnx.IValueInfoProto): OnnxValueInfo {
  const tensor = proto.type?.tensorType;
  const shape = tensor?.shape;
  return {
    name: proto.name ?? '',
    elemType: tensor?.elemType ?? null,
    dims: shape
      ? (shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? num(d.dimValue) : null))
      : null,
  };
}

/** Decodes the bytes of an .onnx file. */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  let proto: onnxProto.onnx.ModelProto;
  try {
    proto = onnxSchema().ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxError(`not a readable ONNX model (${(error as Error).message})`);
  }
  const graph = proto.graph;
  if (!graph || (graph.node ?? []).length === 0) throw new OnnxError('not an ONNX model: it holds no graph of operators');
  const opsets = new Map<string, number>();
  for (const o of proto.opsetImport ?? []) opsets.set(o.domain ?? '', num(o.version));
  const initializers = new Map<string, OnnxTensor>();
  (graph.initializer ?? []).forEach((t, k) => {
    const tensor = tensorOf(t, `initializer#${k}`);
    initializers.set(tensor.name, tensor);
  });
  const nodes = (graph.node ?? []).map((n, k): OnnxNode => {
    const opType = n.opType ?? '';
    const name = n.name || `${opType || 'node'}#${k}`;
    const attributes = new Map<string, OnnxAttribute>();
    for (const a of n.attribute ?? []) attributes.set(a.name ?? '', attributeOf(a, name));
    return { name, opType, domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attributes };
  });
  return {
    irVersion: num(proto.irVersion),
    opsets,
    producer: `${proto.producerName ?? ''} ${proto.producerVersion ?? ''}`.trim(),
    nodes,
    initializers,
    inputs: (graph.input ?? []).map(valueInfoOf),
    outputs: (graph.output ?? []).map(valueInfoOf),
  };
}

/** The decoded protobuf itself, for writing a model back (export.ts). */
export function decodeOnnxProto(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  try {
    return onnxSchema().ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxError(`not a readable ONNX model (${(error as Error).message})`);
  }
}

export function encodeOnnxProto(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnxSchema().ModelProto.encode(model).finish();
}
