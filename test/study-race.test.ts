/**
 * Early elimination in a study (`transfer.eliminate`, docs/protocol.md#early-elimination-in-a-study):
 * the plan (looks after every replicate from the third, each transfer reading the look before
 * its replicate; none of it without the key), the look's decision, a transfer of a stopped depth
 * (trains nothing, records `eliminated`), and the answer (a stopped depth is neither l* nor
 * plausible, and the text names it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../pipeline/config-loader.js';
import type { ResultRow } from '../stages/lib/tables/report-tables.js';
import { eliminationLines, eliminationsOf } from '../stages/lib/report/eliminations.js';
import { computeOptimalDepth } from '../stages/lib/report/optimal-depth.js';
import { planDefrost } from '../stages/plan.js';
import { defrostProject } from '../stages/project.js';
import { decideRace } from '../stages/training/race-stage.js';
import { raceReplicates } from '../stages/training/race-plan.js';
import { runTransfer } from '../stages/training/training-job.js';
import { transferStage } from '../stages/training/transfer.js';
import { QUICK } from './engine-helpers.js';
import { stageContext } from './stage-rig.js';

const raceInputs = (s: { inputs: Record<string, string> }): string[] =>
  Object.entries(s.inputs)
    .filter(([name]) => name.startsWith('race/'))
    .map(([, id]) => id);

test('transfer.eliminate plans a look before every replicate from the third; off, the plan has none', () => {
  const sets = ['seeds=[0,1,2,3,4]'];
  const off = planDefrost(loadConfig(defrostProject, QUICK, sets).config);
  assert.equal(off.filter((s) => s.stage === 'race').length, 0);
  assert.ok(off.every((s) => raceInputs(s).length === 0));

  const on = planDefrost(loadConfig(defrostProject, QUICK, [...sets, 'transfer.eliminate=true']).config);
  const looks = on.filter((s) => s.stage === 'race');
  // 2 correlations x 3 n x 2 modes, looks after 3 and 4 of the 5 replicates (seeds).
  assert.equal(looks.length, 2 * 3 * 2 * 2);
  const transfer = (seed: number) =>
    on.find(
      (s) =>
        s.stage === 'transfer' &&
        s.coords.correlation === 0.8 &&
        s.coords.n === 20 &&
        s.coords.mode === 'defrost' &&
        s.coords.depth === 1 &&
        s.coords.seed === seed,
    );
  assert.deepEqual(raceInputs(transfer(0) ?? { inputs: {} }), []);
  assert.deepEqual(raceInputs(transfer(2) ?? { inputs: {} }), []);
  assert.deepEqual(raceInputs(transfer(3) ?? { inputs: {} }), ['race[correlation=0.8,n=20,mode=defrost,look=3]']);
  assert.deepEqual(raceInputs(transfer(4) ?? { inputs: {} }), ['race[correlation=0.8,n=20,mode=defrost,look=4]']);
  // The look before replicate 4 reads every depth (0..2) of seeds 0-3 of its cell, and nothing else.
  const look4 = looks.find((s) => s.id === 'race[correlation=0.8,n=20,mode=defrost,look=4]');
  const read = Object.values(look4?.inputs ?? {}).map((id) => on.find((s) => s.id === id));
  assert.equal(read.length, 3 * 4);
  assert.ok(read.every((s) => s?.stage === 'transfer' && s.coords.mode === 'defrost' && s.coords.n === 20 && Number(s.coords.seed) < 4));
  // Scratch and the similarity reference are never raced; the rest of the plan is the same instances.
  assert.deepEqual(
    on.filter((s) => s.stage !== 'race').map((s) => s.id),
    off.map((s) => s.id),
  );
});

test('replicates race seed by seed, every task instance within a seed', () => {
  const { config } = loadConfig(defrostProject, QUICK, ['task_seeds=[7,8,9]', 'seeds=[0,1]', 'transfer.eliminate=true']);
  assert.deepEqual(raceReplicates(config), [
    { task: 7, seed: 0 },
    { task: 8, seed: 0 },
    { task: 9, seed: 0 },
    { task: 7, seed: 1 },
    { task: 8, seed: 1 },
    { task: 9, seed: 1 },
  ]);
  const plan = planDefrost(config);
  const t = plan.find((s) => s.id === 'transfer[task=8,correlation=1,n=100,mode=reinit,depth=0,seed=1]');
  assert.deepEqual(raceInputs(t ?? { inputs: {} }), ['race[correlation=1,n=100,mode=reinit,look=4]']);
});

test('a look stops a depth whose paired selection gap from the leader is significant at its stricter level', () => {
  const replicates = [0, 1, 2, 3, 4].map((seed) => ({ task: null, seed }));
  const selection: Record<number, number[]> = {
    0: [0.8, 0.82, 0.79, 0.81],
    1: [0.81, 0.8, 0.82, 0.8],
    2: [0.5, 0.52, 0.49, 0.51],
  };
  const runs = Object.entries(selection).flatMap(([depth, accs]) =>
    accs.map((a, seed) => ({ coords: { depth: Number(depth), seed }, summary: { selection_accuracy: a } })),
  );
  const look3 = decideRace({ mode: 'defrost', depths: [0, 1, 2], replicates, look: 3 }, runs);
  assert.deepEqual(look3.alive, [0, 1]);
  assert.deepEqual(
    look3.eliminated.map((e) => [e.depth, e.after_replicates, e.leader]),
    [[2, 3, 1]],
  );
  // A stopped run (no selection accuracy) and a later replicate do not move the decision.
  const extra = [
    { coords: { depth: 2, seed: 3 }, summary: { selection_accuracy: null } },
    { coords: { depth: 0, seed: 4 }, summary: { selection_accuracy: 0.1 } },
  ];
  assert.deepEqual(decideRace({ mode: 'defrost', depths: [0, 1, 2], replicates, look: 3 }, [...runs, ...extra]), look3);
  // Within the noise, nobody stops.
  const close = decideRace(
    { mode: 'defrost', depths: [0, 1], replicates, look: 4 },
    runs.filter((r) => r.coords.depth !== 2),
  );
  assert.deepEqual(close.alive, [0, 1]);
});

test('a transfer of a stopped depth trains nothing and records that it was eliminated', async () => {
  const race = {
    dir: '/nonexistent',
    id: 'race[correlation=0.8,n=20,mode=defrost,look=3]',
    summary: { look: 3, alive: [0, 1], eliminated: [{ depth: 2, after_replicates: 3, leader: 0, gap: [0.2, 0.3, 0.4] }] },
  };
  const params = {
    model: { kind: 'mlp' as const, hidden: [8, 8], activation: 'relu' as const },
    train: {},
    seed: 3,
    correlation: 0.8,
    n: 20,
    validation: 'external' as const,
    mode: 'defrost' as const,
    depth: 2,
  };
  // The data and source are never opened: nothing is read for a stopped depth.
  const rig = stageContext(transferStage, {
    params,
    inputs: { data: { dir: '/nonexistent' }, source: { dir: '/nonexistent' }, prefix: [], race: [race] },
  });
  const outcome = await runTransfer(rig.ctx);
  assert.equal(outcome.summary?.stopped_by, 'eliminated');
  assert.equal(outcome.summary?.train_steps, 0);
  assert.equal(outcome.summary?.selection_accuracy, null);
  assert.match(rig.lines.join('\n'), /depth 2 stopped after 3 replicates, behind depth 0/);
});

function row(depth: number | null, seed: number, selection: number | null, stopped = 'patience'): ResultRow {
  return {
    correlation: 0.8,
    n: 20,
    mode: depth === null ? 'scratch' : 'defrost',
    depth,
    setting: null,
    seed,
    task_seed: null,
    test_accuracy: selection,
    test_loss: 0.5,
    validation_accuracy: selection,
    selection_accuracy: selection,
    best_epoch: 1,
    stopped_by: stopped,
    learning_rate: 0.001,
    train_steps: stopped === 'eliminated' ? 0 : 100,
    seconds: 1,
  };
}

test('a stopped depth is neither l* nor plausible, and the text names it and when', () => {
  // Depth 2 was stopped after 3 of 5 seeds; its trained runs alone would make it l*.
  const results: ResultRow[] = [0, 1, 2, 3, 4].flatMap((seed) => [
    row(null, seed, 0.6),
    row(0, seed, 0.7 + seed * 0.01),
    row(1, seed, 0.72 - seed * 0.01),
    seed < 3 ? row(2, seed, 0.95) : row(2, seed, null, 'eliminated'),
  ]);
  const [answer] = computeOptimalDepth(results, [], 2);
  assert.equal(answer.optimal_depth, 0);
  assert.ok(!answer.plausible_depths.includes(2));
  assert.equal(answer.missing_runs, 0);
  assert.deepEqual(eliminationLines(eliminationsOf(results)), [
    'early elimination, correlation=0.8 n=20 defrost: depth 2 stopped after 3 of 5 replicates',
  ]);
  // Without eliminations there are no lines (a study without the key prints what it always did).
  assert.deepEqual(eliminationLines(eliminationsOf(results.filter((r) => r.depth !== 2))), []);
});
