/**
 * A study config's checks, the pure rules of the schema (stages/config/schema.ts) and the ones
 * that read files: a `source_model` that cannot be used, image datasets that are missing or
 * lack the classes and sizes asked for. They live here, not in the schema, so the schema every
 * stage's params are built from stays free of file I/O (and of the fingerprints of these checks).
 */
import type { ConfigIssue } from '../../pipeline/project.js';
import { checkConfig, modelSchema, runCountIssues, selectionSizeOf, type DefrostConfig } from '../config/schema.js';
import { imageTaskIssues } from './image-catalog.js';
import { sampleShapeIssues } from './shape-issues.js';
import { sourceModelIssues } from './source-model-issues.js';
import { studyImageOptions } from './study-images.js';
import { imageSizeProblem } from '../lib/formats/read-images.js';

export function checkStudyConfig(config: DefrostConfig): ConfigIssue[] {
  // A source_model that cannot be used leaves L unknown: report it, and the rest without L.
  const sourceIssues = sourceModelIssues(config, modelSchema.parse({}));
  if (sourceIssues.some((i) => i.key === 'source_model' || i.key === 'source_blocks')) return sourceIssues;
  const issues = [...sourceIssues, ...checkConfig(config)];
  // An image size beyond the pixel limit is refused before any image is looked at.
  const size = config.task.kind === 'image' ? config.task.images.size : null;
  const sizeProblem = size === null ? null : imageSizeProblem(size);
  if (sizeProblem !== null)
    return [...issues, { key: 'task.images.size', value: size, allowed: `at most the pixel limit: ${sizeProblem}` }];
  if (config.task.kind === 'image') {
    // The data itself: dataset installed/readable, classes present, sizes within the class subsets.
    const reported = new Set(issues.map((i) => i.key));
    for (const issue of imageTaskIssues({ ...config.task, selection_size: selectionSizeOf(config.task) }, studyImageOptions(config)))
      if (!reported.has(issue.key)) issues.push(issue);
    // Source and target samples of one shape (after the data's own problems: unreadable data has no shape).
    if (!issues.some((i) => i.key.startsWith('task.source') || i.key.startsWith('task.target')))
      issues.push(...sampleShapeIssues(config, studyImageOptions(config)));
  }
  if (issues.length === 0) issues.push(...runCountIssues(config));
  return issues;
}
