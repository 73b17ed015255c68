/**
 * `fine-tune` (docs/your-data.md#the-model-out): the network `recommend --save-model` hands back:
 * the source network transferred at the recommended depth and mode and trained on all the data
 * with the recipe of the folds (early stopping on a stratified validation split, as inside each
 * fold), written as ONNX and in the source's own format (`model/`: `model.onnx`, and for a
 * TensorFlow.js source `model.json` + `weights.bin` too) with `defrost.json` (l*, the blocks kept
 * frozen, the data's fingerprint, the recipe). Cached like any stage: its key covers the data, the network, the depth, mode, seed and
 * recipe. The work is in fine-tune-job.ts, loaded inside `run`.
 */
import { z } from 'zod';
import { defineStage, directory, file, input, type ContextOf } from '../../pipeline/stage.js';
import { seedSchema } from '../config/schema.js';
import { importDataStage } from '../data/import-data.js';
import { importSourceParams } from '../data/import-params.js';
import { importSourceStage } from '../data/import-source.js';
import { trainSchema } from '../lib/models/recipe.js';
import { TRANSFER_MODES } from '../lib/models/transfer-modes/registry.js';

export const fineTuneParams = z.strictObject({
  /** The network as import-source reads it: fine-tune writes it back from the original file. */
  source: importSourceParams,
  /** The data as given (path) and its sha256, recorded in defrost.json. */
  data: z.strictObject({ path: z.string(), sha256: z.string() }),
  mode: z.enum(TRANSFER_MODES),
  depth: z.number().int().min(0),
  /** The folds of the recommendation (the validation split's stream follows them). */
  folds: z.number().int().min(2),
  seed: seedSchema,
  train: trainSchema,
});

const declaration = {
  name: 'fine-tune',
  description: 'the source network transferred at l* and trained on all the data, as ONNX and in its own format',
  module: import.meta.url,
  params: fineTuneParams,
  inputs: { data: input(importDataStage), source: input(importSourceStage) },
  outputs: { model: directory('model'), record: file('defrost.json') },
} as const;
export type FineTuneContext = ContextOf<typeof declaration>;

export const fineTuneStage = defineStage({
  ...declaration,
  async run(ctx) {
    const { runFineTune } = await import('./fine-tune-job.js');
    return { summary: await runFineTune(ctx) };
  },
});
