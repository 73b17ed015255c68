/**
 * The rounds of early elimination as `defrost recommend` runs them (docs/your-data.md#early-elimination;
 * the rule is stages/lib/race.ts): each round executes the plan of the folds reached so far, reads the fold
 * accuracies from the published manifests, stops the candidates that trail, and plans the next
 * fold of the survivors; the last round adds the `recommend` stage, which replays the same race on
 * the runs it gathers. The rounds are one recommend: one execution (every instance a round
 * computed counts as executed) and one run record.
 */
import type { Execution } from '../../pipeline/cli/run.js';
import type { PlannedInstance } from '../../pipeline/dag.js';
import { readManifest } from '../../pipeline/manifest.js';
import type { InstanceSpec } from '../../pipeline/stage.js';
import type { Store } from '../../pipeline/store.js';
import { wrapWords } from '../../pipeline/terminal-width.js';
import { SCRATCH_MODE, transferModeOf } from '../lib/models/transfer-modes/registry.js';
import { planRecommendRuns, type RecommendRequest } from './plan.js';
import {
  candidateKey,
  eliminationsAfter,
  raceCandidates,
  raceRounds,
  type Candidate,
  type Elimination,
  type RaceResult,
} from '../lib/race.js';
import { cvTrainStage } from './cv-train.js';

/** What the rounds need from the command: executing a plan, the store, where to say what stopped. */
export interface RaceRunner {
  execute(plan: readonly InstanceSpec[]): Promise<{ instances: PlannedInstance[]; execution: Execution }>;
  readonly store: Store;
  readonly human: (line: string) => void;
}

/** The held-out accuracy of every published fold run of a round. */
function foldResults(instances: readonly PlannedInstance[], execution: Execution, store: Store): RaceResult[] {
  const results: RaceResult[] = [];
  for (const inst of instances) {
    if (inst.stage !== cvTrainStage.name) continue;
    const status = execution.result.outcomes.get(inst.id)?.status;
    if (status !== 'executed' && status !== 'cached') continue;
    const read = readManifest(store.instanceDir(inst.stage, inst.key));
    const accuracy = read.ok ? read.manifest.summary.accuracy : undefined;
    if (typeof accuracy !== 'number') continue;
    const depth = inst.coords.depth;
    results.push({
      mode: String(inst.coords.mode),
      depth: typeof depth === 'number' ? depth : null,
      fold: Number(inst.coords.fold),
      accuracy,
    });
  }
  return results;
}

const nameOf = (c: Candidate): string => (c.mode === SCRATCH_MODE ? 'scratch' : `${c.mode} depth ${String(c.depth)}`);

function roundLine(round: number, rounds: readonly number[], out: readonly Elimination[]): string {
  const head = `early elimination, round ${round + 1}/${rounds.length} (${rounds[round]} folds): `;
  if (out.length === 0) return `${head}no depth trails significantly; all continue`;
  return head + out.map((e) => `${nameOf(e)} stops (${(100 * e.gap[1]).toFixed(1)} points below depth ${e.leader})`).join(', ');
}

/**
 * Every round's instance executed in a round counts as executed in the whole recommend (the last
 * round finds it cached); the last round's plan is the whole recommend's.
 */
function mergeRounds(earlier: readonly { instances: PlannedInstance[]; execution: Execution }[], last: Execution): Execution {
  const outcomes = new Map(last.result.outcomes);
  const summary = { ...last.summary, executed_by_stage: { ...last.summary.executed_by_stage } };
  for (const { instances, execution } of earlier)
    for (const inst of instances) {
      const outcome = execution.result.outcomes.get(inst.id);
      if (outcome?.status !== 'executed' || outcomes.get(inst.id)?.status !== 'cached') continue;
      outcomes.set(inst.id, outcome);
      summary.executed++;
      summary.cached--;
      summary.executed_by_stage[inst.stage] = (summary.executed_by_stage[inst.stage] ?? 0) + 1;
    }
  return { ...last, result: { ...last.result, outcomes }, summary };
}

/** Runs the race round by round; returns the last round's instances and the merged execution. */
export async function runRace(
  request: RecommendRequest,
  depths: readonly number[],
  runner: RaceRunner,
): Promise<{ instances: PlannedInstance[]; execution: Execution }> {
  // Protocols with a swept setting of their own (--protocols) are not raced: every fold is trained.
  if (request.protocols.length > 0 || request.modes.some((m) => transferModeOf(m).setting !== undefined))
    return runner.execute(planRecommendRuns(request, depths));
  const rounds = raceRounds(request.folds);
  let alive = raceCandidates(request.modes, depths);
  const trainedFolds = new Map(alive.map((c) => [candidateKey(c), rounds[0]]));
  const earlier: { instances: PlannedInstance[]; execution: Execution }[] = [];
  for (let round = 0; round < rounds.length - 1; round++) {
    const done = await runner.execute(planRecommendRuns(request, depths, { trainedFolds, answer: false }));
    // A later round's execution handles the signals from now on.
    done.execution.release();
    if (done.execution.exitCode !== 0) return { instances: done.instances, execution: mergeRounds(earlier, done.execution) };
    earlier.push(done);
    const results = foldResults(done.instances, done.execution, runner.store);
    const out = eliminationsAfter(results, alive, request.modes[0], rounds[round], request.folds);
    runner.human(wrapWords(roundLine(round, rounds, out), '', '  ').join('\n'));
    const stopped = new Set(out.map(candidateKey));
    alive = alive.filter((c) => !stopped.has(candidateKey(c)));
    for (const c of alive) trainedFolds.set(candidateKey(c), rounds[round + 1]);
  }
  const last = await runner.execute(planRecommendRuns(request, depths, { trainedFolds, answer: true }));
  return { instances: last.instances, execution: mergeRounds(earlier, last.execution) };
}
