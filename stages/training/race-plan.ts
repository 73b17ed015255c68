/**
 * Plans a study's early elimination (`transfer.eliminate`, ./race-stage.ts,
 * docs/protocol.md#early-elimination-in-a-study): the racing order of a cell's replicates, the
 * `race` look each transfer of a depth mode reads, and the looks themselves, added once every
 * transfer is planned (a look reads the transfers of every task instance, which the planner adds
 * task by task).
 */
import { instanceId, manyInputName, type InstanceRef, type PlanBuilder } from '../../pipeline/plan-builder.js';
import type { Coords } from '../../pipeline/stage.js';
import { taskSeedsOf, type DefrostConfig } from '../config/schema.js';
import { FIRST_ROUND_FOLDS, raceRounds } from '../lib/race.js';
import { raceStage, type RaceParams } from './race-stage.js';

/** The replicates of a cell in racing order: seed by seed, every task instance within a seed. */
export function raceReplicates(config: DefrostConfig): RaceParams['replicates'] {
  const tasks = taskSeedsOf(config);
  return config.seeds.flatMap((seed) => tasks.map((task) => ({ task: config.task_seeds === null ? null : task, seed })));
}

const raceCoords = (correlation: number | null, n: number, mode: string, look: number): Coords => ({ correlation, n, mode, look });

/**
 * The look a transfer of replicate (task, seed) waits for: none when the study does not race, or
 * for the first replicates, which every depth trains.
 */
export function raceInput(
  config: DefrostConfig,
  task: Coords,
  correlation: number | null,
  n: number,
  mode: string,
  seed: number,
): InstanceRef<'race'>[] {
  if (!config.transfer.eliminate) return [];
  const taskSeed = typeof task.task === 'number' ? task.task : null;
  const look = raceReplicates(config).findIndex((r) => r.seed === seed && r.task === taskSeed);
  if (look < FIRST_ROUND_FOLDS) return [];
  return [{ id: instanceId(raceStage.name, raceCoords(correlation, n, mode, look)), stage: raceStage.name }];
}

/**
 * Adds every look the planned transfers read: for each (correlation, n, mode) with a raced
 * transfer, the looks 3..replicates-1, each reading the cell's transfers of the replicates before it.
 */
export function planRaces(plan: PlanBuilder, config: DefrostConfig, depths: readonly number[]): void {
  if (!config.transfer.eliminate) return;
  const replicates = raceReplicates(config);
  const specs = plan.specs();
  const cells = new Map<string, { correlation: number | null; n: number; mode: string }>();
  // The cells whose transfers wait for a look (`race/<id>`, a many-input's member).
  for (const spec of specs)
    if (Object.keys(spec.inputs).some((name) => name.startsWith(manyInputName('race', '')))) {
      const { correlation, n, mode } = spec.coords as { correlation: number | null; n: number; mode: string };
      cells.set(`${String(correlation)}|${n}|${mode}`, { correlation, n, mode });
    }
  for (const { correlation, n, mode } of cells.values()) {
    const transfers = specs.filter(
      (s) => s.stage === 'transfer' && s.coords.correlation === correlation && s.coords.n === n && s.coords.mode === mode,
    );
    const replicateOf = (coords: Coords): number =>
      replicates.findIndex((r) => r.seed === coords.seed && r.task === (typeof coords.task === 'number' ? coords.task : null));
    for (const look of raceRounds(replicates.length).slice(0, -1)) {
      const runs = transfers.filter((s) => replicateOf(s.coords) < look).map((s) => ({ id: s.id, stage: 'transfer' as const }));
      plan.add(raceStage, raceCoords(correlation, n, mode, look), { mode, depths: [...depths], replicates, look }, { runs });
    }
  }
}
