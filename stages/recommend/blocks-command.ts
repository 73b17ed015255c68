/**
 * `defrost blocks --model M [--source-blocks JSON] [--json]` (docs/your-data.md#blocks): the blocks
 * a network splits into for `recommend` and `source_model` — each block's layers, the shape of
 * the tensor that carries everything forward at its end, and its parameters — and where blocks
 * may start, the names `--source-blocks` / `source_blocks` take. Read like `recommend` reads the
 * network (a network it cannot use exits 2 with the reason); the shapes and counts come from the
 * built network.
 *
 * Light at load time: TensorFlow.js is imported in the action.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { act, type CliContext } from '../../pipeline/cli/context.js';

interface CommandOptions {
  model: string;
  sourceBlocks?: string;
  json?: boolean;
}

export function registerBlocksCommand(program: Command, ctx: CliContext): void {
  program
    .command('blocks')
    .description(
      "a network's blocks (the depths recommend counts): layers, output shape and parameters of each, and where blocks may start",
    )
    .requiredOption('--model <file>', 'an ONNX file or a TensorFlow.js layers model.json')
    .option('--source-blocks <json>', 'name the blocks: JSON lists of layer names (each block starts at its first one)')
    .option('--json', 'print one JSON object')
    .action(act(ctx, (options: CommandOptions) => blocksCommand(ctx, options)));
}

async function blocksCommand(ctx: CliContext, options: CommandOptions): Promise<number> {
  const { readSourceModel, deriveBlocks } = await import('../lib/models/source-network/topology.js');
  const { parseSourceBlocks } = await import('./request.js');
  const { cutPoints } = await import('../lib/models/source-network/graph-blocks.js');
  const path = resolve(options.model);
  const model = readSourceModel(path);
  const blocks = deriveBlocks(path, model.topology, parseSourceBlocks(options.sourceBlocks));
  const { selectBackend } = await import('../lib/models/backend.js');
  await selectBackend('wasm');
  const { canonicalSourceNetwork } = await import('../lib/models/source-network/canonical.js');
  const { blockEnd, blockLayers } = await import('../lib/models/models.js');
  const network = await canonicalSourceNetwork(model, blocks);
  const rows = blocks.blocks.map((layers, b) => ({
    block: b + 1,
    layers,
    output_shape: (blockEnd(network, b + 1).outputShape as (number | null)[]).slice(1) as number[],
    parameters: blockLayers(network, b + 1).reduce((s, l) => s + l.countParams(), 0),
  }));
  const readout = network.getLayer('readout');
  const body = model.topology.layers.slice(
    0,
    model.topology.layers.findIndex((l) => l.name === blocks.readout),
  );
  const cuts = cutPoints(model.topology.layers);
  const mayStart = body.filter((l, i) => i > 0 && cuts[i - 1] && l.className !== 'ZeroPadding2D').map((l) => l.name);
  const padded = body.filter((l, i) => i > 0 && body[i - 1].className === 'ZeroPadding2D' && cuts[i - 2]).map((l) => l.name);
  const starts = body.map((l) => l.name).filter((n) => mayStart.includes(n) || padded.includes(n));
  const result = {
    model: path,
    format: model.format,
    input_shape: model.topology.inputShape,
    blocks: rows,
    readout: { layer: blocks.readout, units: (readout.outputShape as number[])[1], parameters: readout.countParams() },
    dropped: blocks.dropped,
    may_start_at: starts,
  };
  network.dispose();
  if (options.json) {
    ctx.out(JSON.stringify(result));
    return 0;
  }
  ctx.out(`${options.model} (${model.format}): input [${result.input_shape}], ${rows.length} blocks, then the readout`);
  const shorten = (layers: string[]): string =>
    layers.length <= 4 ? layers.join(', ') : `${layers.slice(0, 2).join(', ')} ... ${layers[layers.length - 1]} (${layers.length} layers)`;
  for (const r of rows)
    ctx.out(`  block ${r.block}: ${shorten(r.layers)} -> [${r.output_shape}], ${r.parameters.toLocaleString('en-US')} parameters`);
  ctx.out(
    `  readout: ${result.readout.layer} (${result.readout.units} units, ${result.readout.parameters.toLocaleString('en-US')} parameters; replaced by one for your classes)` +
      (result.dropped.length > 0 ? `; dropped after it: ${result.dropped.join(', ')}` : ''),
  );
  ctx.out(`Blocks may start at (--source-blocks names the first layer of each block): ${starts.join(', ')}`);
  return 0;
}
