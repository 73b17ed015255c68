/**
 * Params schemas of the `recommend` stages (docs/your-data.md), built from the config sections of
 * stages/config/schema.ts where they exist. Paths are absolute (resolved when planning); every file's
 * bytes enter the key through its sha256.
 */
import { z } from 'zod';
import { imageOptionsSchema, seedSchema } from '../config/schema.js';
import { trainSchema } from '../lib/models/recipe.js';
import { SCRATCH_MODE, TRANSFER_MODES } from '../lib/models/transfer-modes/registry.js';

const path = z.string().min(1);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');

/** A file dataset: one path, or an explicit train/test pair; `label_column` for CSV and Arrow tables. */
const labelColumn = z.string().min(1).optional();
export const fileDatasetSchema = z.union([
  z.strictObject({ path, label_column: labelColumn }),
  z.strictObject({ train: path, test: path, label_column: labelColumn }),
]);

export const importDataParams = z.strictObject({ dataset: fileDatasetSchema, images: imageOptionsSchema, sha256 });

export const importSourceParams = z.strictObject({
  model: path,
  /** `source_blocks`: the layer names of each block; null derives them. */
  blocks: z
    .array(z.array(z.string().min(1)).min(1))
    .min(1)
    .nullable(),
  sha256,
});

/** A cross-validation run transfers in a mode, or trains from scratch. */
export const CV_MODES = [...TRANSFER_MODES, SCRATCH_MODE] as const;

export const cvTrainParams = z.strictObject({
  folds: z.number().int().min(2),
  fold: z.number().int().min(0),
  mode: z.enum(CV_MODES),
  /** null for scratch and for a mode whose setting is not the depth. */
  depth: z.number().int().min(0).nullable(),
  /** The setting of a mode whose setting is not the depth (docs/science.md#beyond-freezing-a-prefix). */
  setting: z.number().optional(),
  /** The mode's fixed options (its defaults), for a mode that has any. */
  options: z.record(z.string(), z.number()).optional(),
  seed: seedSchema,
  train: trainSchema,
});

export const recommendParams = z.strictObject({
  modes: z.array(z.enum(TRANSFER_MODES)).min(1),
  /** `--protocols`: the modes compared across protocols for "which protocol, and at which setting"; absent: none. */
  protocols: z.array(z.enum(TRANSFER_MODES)).optional(),
  depths: z.array(z.number().int().min(0)).min(1),
  folds: z.number().int().min(2),
  /** L, the network's blocks: l = L is the "freeze every block" the answer compares with. */
  blocks: z.number().int().min(1),
  /** What the report names as the data and the network (the paths as given). */
  data: z.string(),
  model: z.string(),
  /** Early elimination (docs/your-data.md#early-elimination): the runs are a race's; false: exhaustive. */
  elimination: z.boolean(),
});
