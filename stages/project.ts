/**
 * The defrost project as the engine sees it: config schema, planner, the stage registry, and the
 * compute runtime that workers initialise. `STAGES` is the one list of stages: a new stage is
 * added here, and in the planner unless its report section (report/sections.ts) plans it, and in
 * `config.ts` only for a config section of its own (docs/architecture.md, "Adding a stage").
 * `resources` is keyed by these names (`checkDefrostConfig`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigIssue, Project } from '../pipeline/project.js';
import type { AnyStage } from '../pipeline/stage.js';
import { aggregateStage } from './report/aggregate.js';
import { backendNames, initRuntime } from './lib/models/backend.js';
import { configSchema, resourceKeyIssues, resourcesOf, type DefrostConfig } from './config/schema.js';
import { checkStudyConfig } from './data/config-checks.js';
import { baselineStage } from './similarity/baseline.js';
import { generateDataStage } from './data/generate-data.js';
import { planDefrost } from './plan.js';
import { predictStage } from './prediction/predict.js';
import { cvTrainStage } from './recommend/cv-train.js';
import { fineTuneStage } from './recommend/fine-tune.js';
import { importDataStage } from './data/import-data.js';
import { importSourceStage } from './data/import-source.js';
import { recommendStage } from './recommend/recommend.js';
import { reportAfterRun } from './report/after-run.js';
import { runAnswer } from './report/run-answer.js';
import { similarityStage } from './similarity/similarity.js';
import { prefixStage } from './training/prefix.js';
import { raceStage } from './training/race-stage.js';
import { trainScratchStage } from './training/train-scratch.js';
import { trainSourceStage } from './training/train-source.js';
import { transferStage } from './training/transfer.js';

/** The repository root: `dist/stages/project.js` and `stages/project.ts` are both two levels down. */
function findCodeRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.endsWith(join('dist', 'stages')) ? join(here, '..', '..') : join(here, '..');
  return up;
}

const codeRoot = findCodeRoot();
const version = (JSON.parse(readFileSync(join(codeRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** Every stage of the project, by name. */
export const STAGES = [
  generateDataStage,
  trainSourceStage,
  trainScratchStage,
  prefixStage,
  raceStage,
  transferStage,
  similarityStage,
  baselineStage,
  predictStage,
  aggregateStage,
  importDataStage,
  importSourceStage,
  cvTrainStage,
  recommendStage,
  fineTuneStage,
] as const;

/** The names of `STAGES`: the keys `resources` takes (and the stages `--stage`/`dag` know). */
export const stageNames: readonly string[] = STAGES.map((stage) => stage.name);

/** The config's cross-field rules, and `resources` keyed by stages of this registry. */
export function checkDefrostConfig(config: DefrostConfig): ConfigIssue[] {
  return [...checkStudyConfig(config), ...resourceKeyIssues(config, stageNames)];
}

export const defrostProject: Project<DefrostConfig> = {
  name: 'defrost',
  version,
  codeRoot: process.env.DEFROST_CODE_ROOT ?? codeRoot,
  stages: Object.fromEntries(STAGES.map((stage): [string, AnyStage] => [stage.name, stage])),
  configSchema,
  check: checkDefrostConfig,
  plan: planDefrost,
  initRuntime,
  backends: backendNames,
  resources: resourcesOf,
  /** Ends every `defrost run` with the l* table and the path of report.html (stages/report/after-run.ts). */
  afterRun: reportAfterRun,
  /** l* per cell for the run record (stages/report/run-answer.ts). */
  answer: runAnswer,
};
