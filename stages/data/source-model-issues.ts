/**
 * Config-time checks of a study with a pre-trained source network (`source_model`,
 * docs/your-data.md), before anything runs (exit 2): the network is readable and splits into
 * blocks, the task is an image task whose source is the network (not also `task.source`, nor a
 * `model` section it would ignore), and the target data fit the network's input (both shapes
 * named). Also: `task.images` only where image folders are read. `transfer.depths` against the
 * network's L is checked with the other depth rules in config.ts.
 */
import type { ConfigIssue } from '../../pipeline/project.js';
import type { DefrostConfig } from '../config/schema.js';
import { fileFormatOf, fileSpecOf } from '../lib/formats/read.js';
import { probeFileDataset } from '../lib/formats/probe.js';
import { DataFileError } from '../lib/formats/problem.js';
import { studySourceOf } from '../lib/models/source-network/study.js';
import { inputShapeFits } from '../lib/models/source-network/topology.js';
import { studyImageOptions } from './study-images.js';

/** Sample shape of the built-in datasets (fashion-mnist, mnist, idx:). */
export const BUILT_IN_IMAGE_SHAPE: readonly number[] = [28, 28, 1];

/** Whether a dataset of the task is an image folder (a missing path is not: reported elsewhere). */
function readsImageFolders(task: Extract<DefrostConfig['task'], { kind: 'image' }>): boolean {
  return [task.source, task.target].some((subset) => {
    const spec = subset === undefined ? null : fileSpecOf(subset.dataset);
    if (spec === null) return false;
    try {
      return ('path' in spec ? [spec.path] : [spec.train, spec.test]).some((path) => fileFormatOf(path) === 'images');
    } catch (error) {
      if (error instanceof DataFileError) return true; // unreadable: its own issue names it
      throw error;
    }
  });
}

/**
 * The problems of a config's `source_model` (and of an image task without any source).
 * `defaultModel` is the `model` section's default: with `source_model` any other value is
 * refused, since the imported network is the architecture and a changed `model` would be ignored.
 */
export function sourceModelIssues(config: DefrostConfig, defaultModel: DefrostConfig['model']): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { task } = config;
  if (task.kind === 'image' && (task.images.size !== null || task.images.channels !== null) && !readsImageFolders(task))
    issues.push({
      key: 'task.images',
      value: task.images,
      allowed: 'null size and channels: only image folders (`files:` datasets) are decoded with them; other data keep their shape',
    });
  if (config.source_model === null) {
    if (config.source_blocks !== null)
      issues.push({ key: 'source_blocks', value: config.source_blocks, allowed: 'null unless source_model names a network' });
    if (task.kind === 'image' && task.source === undefined)
      issues.push({
        key: 'task.source',
        value: undefined,
        allowed: '{dataset, classes} (required unless source_model gives a pre-trained network)',
      });
    return issues;
  }
  if (task.kind !== 'image') {
    issues.push({
      key: 'source_model',
      value: config.source_model,
      allowed: 'null for a synthetic task (it trains its own source network on the correlated source task); use task.kind: image',
    });
    return issues;
  }
  if (JSON.stringify(config.model) !== JSON.stringify(defaultModel))
    issues.push({
      key: 'model',
      value: config.model,
      allowed: `omitted when source_model is given (scratch and reference networks take the architecture of ${config.source_model})`,
    });
  if (task.source !== undefined)
    issues.push({
      key: 'task.source',
      value: task.source,
      allowed: `omitted when source_model is given (the network ${config.source_model} is the source; remove task.source, or source_model to train one)`,
    });
  let source;
  try {
    source = studySourceOf(config);
  } catch (error) {
    if (!(error instanceof DataFileError)) throw error;
    const blocks = config.source_blocks !== null && /source_blocks/.test(error.problem);
    issues.push({
      key: blocks ? 'source_blocks' : 'source_model',
      value: blocks ? config.source_blocks : config.source_model,
      allowed: `${blocks ? 'layer groups of' : 'a usable network (ONNX or TensorFlow.js layers)'} (${error.message})`,
    });
    return issues;
  }
  if (source === null) return issues;
  const inputShape = source.model.topology.inputShape;
  const spec = fileSpecOf(task.target.dataset);
  let shape: readonly number[] | null = BUILT_IN_IMAGE_SHAPE;
  if (spec !== null) {
    try {
      shape = probeFileDataset(spec, studyImageOptions(config)).shape;
    } catch (error) {
      if (!(error instanceof DataFileError)) throw error;
      return issues; // the data's own problem: reported by the image task checks
    }
  }
  if (shape !== null && !inputShapeFits(shape, inputShape))
    issues.push({
      key: 'source_model',
      value: config.source_model,
      allowed:
        `a network taking the target samples' shape [${shape}] (task.target.dataset); ${source.path} takes inputs of shape [${inputShape}]` +
        (spec !== null && shape.length === 3 ? ' (image folders: task.images resizes them)' : ''),
    });
  return issues;
}
