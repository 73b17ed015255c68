/** Config file + overrides -> keyed, ordered instances: shared by run, status, dag, make and gc. */
import { loadConfig } from '../config-loader.js';
import { buildDag, type PlannedInstance } from '../dag.js';
import type { AnyProject } from '../project.js';

export function planConfig(project: AnyProject, file: string, sets: readonly string[]): PlannedInstance[] {
  const { config } = loadConfig(project, file, sets);
  return buildDag(project, project.plan(config));
}

/** Instances per stage, in the order stages first appear in the plan. */
export function countByStage<T extends { stage: string }>(items: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.stage] = (counts[item.stage] ?? 0) + 1;
  return counts;
}
