/**
 * The work of the two stages that bring the user's files into the store (docs/your-data.md):
 * `import-data` reads a file dataset (checked again: the files may have changed since planning,
 * and then their bytes no longer match the key) and writes it as `train.arrow` (+ `test.arrow`
 * for a train/test pair) in the dataset layout; `import-source` writes the pre-trained network
 * in canonical form as `model/`, which every transfer reads like a `train-source` output.
 *
 * Heavy (Arrow, TensorFlow.js, sharp): stage modules import it inside `run`.
 */
import { StageFailure } from '../../pipeline/errors.js';
import type { JsonObject } from '../../pipeline/stage.js';
import { writeDataset } from '../lib/tables/dataset-table.js';
import { saveNetwork } from '../lib/models/models.js';
import { classCounts } from '../lib/tasks/folds.js';
import { readPlannedFileDataset } from '../lib/formats/read.js';
import type { z } from 'zod';
import type { ImportDataContext, importDataSummary } from './import-data.js';
import type { ImportSourceContext } from './import-source.js';
import { canonicalSourceNetwork } from '../lib/models/source-network/canonical.js';
import { deriveBlocks, fingerprintSourceModel, readSourceModel } from '../lib/models/source-network/topology.js';

export async function importData(ctx: ImportDataContext): Promise<z.input<typeof importDataSummary>> {
  const params = ctx.params;
  const { train, test } = await readPlannedFileDataset(
    params.dataset,
    { size: params.images.size, channels: params.images.channels },
    params.sha256,
  );
  const provenance = (split: string): JsonObject => ({ generator: 'defrost import-data', split, sha256: params.sha256 });
  writeDataset(ctx.output('train'), { ...train, provenance: provenance('train') });
  if (test) writeDataset(ctx.output('test'), { ...test, provenance: provenance('test') });
  return {
    train_rows: train.rows,
    test_rows: test?.rows ?? 0,
    shape: train.shape,
    classes: train.classes,
    class_counts: classCounts(train.labels, train.classes.length),
  };
}

export async function importSource(ctx: ImportSourceContext): Promise<JsonObject> {
  const params = ctx.params;
  const model = readSourceModel(params.model);
  if (fingerprintSourceModel(model) !== params.sha256)
    throw new StageFailure(`${params.model} changed since this run was planned; run the command again`);
  const blocks = deriveBlocks(params.model, model.topology, params.blocks);
  const network = await canonicalSourceNetwork(model, blocks);
  try {
    await saveNetwork(network, ctx.output('model'));
  } finally {
    network.dispose();
  }
  return { input_shape: model.topology.inputShape, blocks: blocks.blocks, readout: blocks.readout };
}
