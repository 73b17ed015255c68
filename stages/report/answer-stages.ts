/**
 * The stages whose runs are rows of the l* table (`training/answer-stage.ts`), in the order the
 * planner adds them per cell. A new stage that feeds the answer adds its entry here, from its own
 * module; `aggregate` (its `runs` input), the study's planner and the results builder take them
 * from this list.
 */
import type { AnswerPlace } from '../lib/report/results.js';
import type { RunRecord } from '../lib/report/types.js';
import { scratchRuns } from '../training/scratch-runs.js';
import { transferRuns } from '../training/transfer-runs.js';

export const ANSWER_STAGES = [scratchRuns, transferRuns] as const;

/** The stages `aggregate` reads for the l* table. */
export const ANSWER_STAGE_DECLARATIONS = ANSWER_STAGES.map((answer) => answer.stage);

/** Where a run sits in the l* table, or null for a run of a stage that feeds no row. */
export function answerPlace(run: Pick<RunRecord, 'stage' | 'coords'>): AnswerPlace | null {
  return ANSWER_STAGES.find((answer) => answer.stage.name === run.stage)?.place(run.coords) ?? null;
}
