/**
 * A study's source and target samples must have one shape (docs/your-data.md#your-data-in-a-study):
 * the target network is the source network, so 28x28 source images and 8x8 target images cannot
 * both go through it. Checked at config time (exit 2, both shapes named) from what is known
 * without decoding: the built-in datasets' shape, and probed files (probe.ts). An `mlp` flattens
 * its input, so for it the number of values per sample must agree; a `cnn` needs the same shape.
 * With `source_model` the network's own input is checked instead (source-model-issues.ts).
 */
import type { ConfigIssue } from '../../pipeline/project.js';
import type { DefrostConfig } from '../config/schema.js';
import { datasetLabel, fileSpecOf, type NamedDataset } from '../lib/formats/read.js';
import { probeFileDataset } from '../lib/formats/probe.js';
import { DataFileError } from '../lib/formats/problem.js';
import type { ImageOptions } from '../lib/formats/read-images.js';
import { BUILT_IN_IMAGE_SHAPE } from './source-model-issues.js';

/** The sample shape of a dataset, or null when it is not known before reading (or unreadable: reported elsewhere). */
function shapeOf(dataset: NamedDataset, images: ImageOptions): readonly number[] | null {
  const spec = fileSpecOf(dataset);
  if (spec === null) return BUILT_IN_IMAGE_SHAPE;
  try {
    return probeFileDataset(spec, images).shape;
  } catch (error) {
    if (error instanceof DataFileError) return null;
    throw error;
  }
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function sampleShapeIssues(config: DefrostConfig, images: ImageOptions): ConfigIssue[] {
  const { task } = config;
  if (task.kind !== 'image' || task.source === undefined || config.source_model !== null) return [];
  const source = shapeOf(task.source.dataset, images);
  const target = shapeOf(task.target.dataset, images);
  if (source === null || target === null) return [];
  const flat = config.model.kind === 'mlp';
  if (flat ? size(source) === size(target) : source.join('x') === target.join('x')) return [];
  return [
    {
      key: 'task.target.dataset',
      value: datasetLabel(task.target.dataset),
      allowed:
        `data whose samples have the source data's ${flat ? `size (${size(source)} values, shape [${source}])` : `shape [${source}]`} ` +
        `(task.source.dataset ${datasetLabel(task.source.dataset)}): the target network is the source network; these samples have shape [${target}]` +
        ' (image folders: task.images resizes them)',
    },
  ];
}
