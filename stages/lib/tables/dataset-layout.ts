/**
 * The columns of every dataset table defrost trains and tests on (`train.arrow`,
 * `validation.arrow`, `test.arrow`; saved activations). Written and read by `dataset-table.ts`,
 * which adds the schema metadata (`shape`, `classes`, `provenance`) and reads the features as one
 * zero-copy view: the generic table code would copy 70,000 images row by row.
 */
import { defineTable } from './define-table.js';

export const DATASET = defineTable(
  'train.arrow',
  {
    features: {
      type: 'FixedSizeList<Float32>',
      doc: 'one sample, row-major; images flattened in HWC order (28x28x1 -> 784); its width is the product of the `shape` metadata',
    },
    label: { type: 'Int32', doc: 'a class index 0..C-1 into the `classes` metadata' },
  },
  {
    doc: 'One row per sample. Schema metadata: `shape` (JSON list, e.g. `[28,28,1]`), `classes` (JSON list of class names, index = label), `provenance` (JSON object: generator, its params, dataset name; never dates).',
  },
);
