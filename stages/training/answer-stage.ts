/**
 * A stage whose runs are rows of the l* table (`results.arrow`, docs/report.md): `train-scratch`
 * (the baseline) and `transfer` today. It declares, in its own module, what the study's planner,
 * `aggregate` and the results builder need, so none of them names it (docs/architecture.md,
 * "Adding a stage"):
 * - `stage`: the stage itself (a member of `aggregate`'s `runs` input);
 * - `plan`: adds its runs of one cell of the sweep (correlation, n, seed) to the study's plan and
 *   returns them;
 * - `place`: where a run sits in the table, read from its coordinates: its mode and depth.
 * The list is `stages/report/answer-stages.ts`.
 */
import type { z } from 'zod';
import type { InstanceRef, PlanBuilder } from '../../pipeline/plan-builder.js';
import type { Coords } from '../../pipeline/stage.js';
import type { DefrostConfig } from '../config/schema.js';
import type { AnswerPlace } from '../lib/report/results.js';
import type { SectionStage } from '../lib/report/section.js';
import type { TransferMode } from '../lib/models/transfer-modes/registry.js';
import type { trainScratchParams } from './training-stage.js';

/** What the study's planner offers for one cell of the sweep (of one task instance). */
export interface AnswerCell {
  readonly plan: PlanBuilder;
  readonly config: DefrostConfig;
  /** The task instance's coordinates (`task`, docs/protocol.md), first in each run's: empty for a study of one task. */
  readonly task: Coords;
  readonly correlation: number | null;
  readonly n: number;
  readonly seed: number;
  /** The transfer depths of the study (`transfer.depths`). */
  readonly depths: readonly number[];
  /** The settings a mode sweeps (`settingsOf`: its depths, or its own setting's values). */
  settings(mode: TransferMode): readonly number[];
  /** The target networks' architecture (null: the imported network's, docs/your-data.md) and recipe. */
  readonly training: Pick<z.output<typeof trainScratchParams>, 'model' | 'train' | 'validation'>;
  /** The target dataset of this correlation. */
  readonly data: InstanceRef<'generate-data'>;
  /** This seed's source network (the imported one with `source_model`). */
  readonly source: InstanceRef<'train-source' | 'import-source'>;
  /** The target network trained from scratch on n samples with a seed (planned once per id). */
  scratch(n: number, seed: number): InstanceRef<'train-scratch'>;
}

export interface AnswerStage<S extends SectionStage = SectionStage> {
  readonly stage: S;
  plan(cell: AnswerCell): InstanceRef<S['name']>[];
  place(coords: Coords): AnswerPlace;
}
