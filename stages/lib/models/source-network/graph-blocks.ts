/**
 * The blocks of a pre-trained network whose layers form a graph (docs/your-data.md#blocks): a
 * block boundary is a cut of the graph, a point where one tensor carries everything forward, so
 * freezing blocks 1..l freezes a prefix that computes one tensor from the input, and nothing of a
 * later block reaches back past it. In a chain every layer ends at a cut; in a residual network
 * the cuts are between residual units.
 *
 * The layers come in an order where every layer follows its inputs (the file's order). With that
 * order a cut after layer i is a property of the graph: it holds when no tensor computed up to
 * layer i, other than layer i's own output, is read after it.
 *
 * Default blocks: the layers between two consecutive cuts are an atom (a single layer in a chain,
 * a whole residual unit in a graph); a block starts at each atom with weights (dense or
 * convolution layers; BatchNormalization does not start a block) and takes the weightless atoms
 * after it (activations, pooling, flatten...); zero padding joins the block of the convolution it
 * pads; atoms before the first block join it. The last dense layer is the readout: it and the
 * activations after it (a softmax) are not blocks. Pure (no TensorFlow.js).
 */
import { CONVOLUTION_LAYERS, isLayerOf } from './layer-families.js';

/** One layer of the graph: its name, its Keras class and the layers it reads. */
export interface GraphLayer {
  readonly name: string;
  readonly className: string;
  /** Names of the layers whose outputs it takes (the input layer's name for the network input). */
  readonly inbound: readonly string[];
}

/** How the network splits for transfer: blocks 1..L, then the readout that is replaced. */
export interface GraphBlocks {
  /** Layer names of each block, in order. */
  readonly blocks: string[][];
  /** The readout layer (the last dense layer); it and anything after it are replaced. */
  readonly readout: string;
  /** Layers after the readout (a softmax): dropped, the new readout emits logits. */
  readonly dropped: string[];
}

/** Layers with the weights that make a block: a block starts at each of them. */
export const CORE_LAYER_CLASSES = ['Dense', ...CONVOLUTION_LAYERS] as const;

/** Layers that may follow the readout (and are dropped: the new readout emits logits). */
const AFTER_READOUT = new Set(['Activation', 'Softmax']);

export const isCoreLayer = (layer: GraphLayer): boolean => isLayerOf(CORE_LAYER_CLASSES, layer.className);

/** For each layer: whether a block may end after it (one tensor carries everything forward). */
export function cutPoints(layers: readonly GraphLayer[]): boolean[] {
  const index = new Map(layers.map((l, i) => [l.name, i]));
  // The last layer reading each tensor; -1 stands for the network input (and any name that is
  // not a layer of the list).
  const lastUse = new Map<number, number>();
  layers.forEach((layer, i) => {
    for (const name of layer.inbound) {
      const from = index.get(name) ?? -1;
      lastUse.set(from, Math.max(lastUse.get(from) ?? -Infinity, i));
    }
  });
  const cuts: boolean[] = [];
  let reach = lastUse.get(-1) ?? -Infinity;
  layers.forEach((_, i) => {
    cuts.push(reach <= i);
    reach = Math.max(reach, lastUse.get(i) ?? -Infinity);
  });
  return cuts;
}

/**
 * Splits the graph into blocks and readout: derived (above), or `named`: each block lists layers
 * (its first one starts it), layers not named join the block before them (or the first one), and
 * every boundary must be a cut. `fail` raises the error that names the file.
 */
export function graphBlocks(
  layers: readonly GraphLayer[],
  named: readonly (readonly string[])[] | null,
  fail: (problem: string) => never,
): GraphBlocks {
  let readoutIndex = -1;
  for (let i = layers.length - 1; i >= 0; i--)
    if (isCoreLayer(layers[i])) {
      readoutIndex = i;
      break;
    }
  if (readoutIndex < 0 || layers[readoutIndex].className !== 'Dense')
    return fail('the last layer with weights must be a Dense readout (its units are the source classes)');
  const dropped = layers.slice(readoutIndex + 1);
  const droppedOther = dropped.find((l) => !AFTER_READOUT.has(l.className));
  if (droppedOther) return fail(`layer "${droppedOther.name}" (${droppedOther.className}) follows the readout; only an activation may`);
  const body = layers.slice(0, readoutIndex);
  const readout = layers[readoutIndex];
  if (body.length === 0) return fail('no hidden block: the network has no dense or conv layer before its readout');
  const cuts = cutPoints(layers);
  if (!cuts[readoutIndex - 1] || readout.inbound.length !== 1 || readout.inbound[0] !== body[body.length - 1].name)
    return fail(`the readout "${readout.name}" must take the output of the layer before it, which carries everything forward`);

  // Atoms: the layers between consecutive cuts.
  const atomOf: number[] = [];
  let atom = 0;
  body.forEach((_, i) => {
    atomOf.push(atom);
    if (cuts[i]) atom++;
  });
  /** Where a block starting at layer i starts (the zero padding before it included), or -1: not at a cut. */
  const startOf = (i: number): number => {
    let start = i;
    while (start > 0 && body[start - 1].className === 'ZeroPadding2D') start--;
    return start === 0 || cuts[start - 1] ? start : -1;
  };
  const starts: number[] = [];
  if (named === null) {
    for (let i = 0; i < body.length; i++) {
      const first = i === 0 || atomOf[i] !== atomOf[i - 1];
      if (!first) continue;
      const atomLayers = body.filter((_, k) => atomOf[k] === atomOf[i]);
      if (!atomLayers.some(isCoreLayer)) continue;
      // Zero padding right before it belongs to it.
      const start = startOf(i);
      starts.push(start >= 0 ? start : i);
    }
  } else {
    const index = new Map(body.map((l, i) => [l.name, i]));
    named.forEach((group, b) => {
      if (group.length === 0) fail(`source_blocks[${b}] is empty`);
      for (const name of group)
        if (!index.has(name))
          fail(
            `source_blocks[${b}] names "${name}", which is not a layer before the readout; layers: ${body.map((l) => l.name).join(', ')}`,
          );
      starts.push(index.get(group[0]) as number);
    });
    const allowed = body.filter((l, i) => i > 0 && l.className !== 'ZeroPadding2D' && startOf(i) >= 0).map((l) => l.name);
    let previous = -1;
    named.forEach((group, b) => {
      const start = startOf(starts[b]);
      if (b > 0 && start < 0)
        fail(
          `source_blocks[${b}] starts at "${group[0]}", but a block may only start where one tensor carries everything forward; ` +
            `blocks may start at: ${allowed.join(', ')}`,
        );
      starts[b] = Math.max(start, 0);
      const end = starts[b + 1] ?? body.length;
      for (const name of group) {
        const i = index.get(name) as number;
        if (i <= previous || i >= end)
          fail(`source_blocks[${b}]: "${name}" is out of order (each block lists layers in order, after the previous block's)`);
        previous = i;
      }
    });
  }
  if (starts.length === 0) return fail('no hidden block: the network has no dense or conv layer before its readout');
  const blocks = starts.map((start, b) => body.slice(b === 0 ? 0 : start, starts[b + 1] ?? body.length).map((l) => l.name));
  return { blocks, readout: readout.name, dropped: dropped.map((l) => l.name) };
}
