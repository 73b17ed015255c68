/**
 * Early elimination in `recommend` (stages/lib/race.ts, docs/your-data.md#early-elimination):
 * the rounds over folds, the stricter level of each look, which candidates stop and when, the
 * replay the `recommend` stage does, what the answer makes of the stopped candidates, and the plan
 * of each round.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCRATCH_MODE } from '../stages/lib/models/transfer-modes/registry.js';
import { recommendation, recommendationJson, recommendationText, type FoldResult } from '../stages/recommend/answer.js';
import { eliminationLevel, eliminationsAfter, raceCandidates, raceRounds, replayRace } from '../stages/lib/race.js';
import { planRecommendRuns, type RecommendRequest } from '../stages/recommend/plan.js';
import { meanInterval, pairedDifferences } from '../stages/lib/statistics.js';

const FOLDS = 5;
// Depth 1 leads; depth 0 within the noise; depth 3 and scratch far below on every fold; depth 2
// below by a steadier but smaller margin (significant at 99% only with four folds).
const D0 = [0.7, 0.78, 0.66, 0.74, 0.71];
const D1 = [0.73, 0.76, 0.7, 0.73, 0.74];
const D2 = [0.64, 0.7, 0.6, 0.66, 0.63];
const D3 = [0.55, 0.61, 0.52, 0.58, 0.56];
const SCR = [0.6, 0.66, 0.58, 0.62, 0.61];

function results(byDepth: number[][], scratch: number[]): FoldResult[] {
  const out: FoldResult[] = [];
  for (let fold = 0; fold < FOLDS; fold++) {
    byDepth.forEach((accs, depth) => out.push({ mode: 'defrost', depth, setting: null, fold, accuracy: accs[fold] }));
    out.push({ mode: SCRATCH_MODE, depth: null, setting: null, fold, accuracy: scratch[fold] });
  }
  return out;
}

test('rounds: the first has three folds (two degrees of freedom), then one fold each; each look is stricter than 95%', () => {
  assert.deepEqual(raceRounds(5), [3, 4, 5]);
  assert.deepEqual(raceRounds(3), [3]);
  assert.deepEqual(raceRounds(2), [2]);
  assert.deepEqual(raceRounds(10), [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(Math.abs(eliminationLevel(5) - 0.99) < 1e-12, 'two looks at 1% each');
  // Seven looks: 5% split over them, so that the looks together risk no more than the final test.
  assert.ok(Math.abs(eliminationLevel(10) - (1 - 0.05 / 7)) < 1e-12);
  for (const k of [2, 3, 4, 5, 8, 10, 20]) {
    const looks = Math.max(1, raceRounds(k).length - 1);
    assert.ok(looks * (1 - eliminationLevel(k)) <= 0.05 + 1e-12, `K = ${k}`);
  }
});

test('a candidate stops when its paired gap to the leader is significant at the stricter level, not at 95% alone', () => {
  const all = results([D0, D1, D2, D3], SCR);
  const candidates = raceCandidates(['defrost'], [0, 1, 2, 3]);
  const first = eliminationsAfter(all, candidates, 'defrost', 3, FOLDS);
  assert.deepEqual(
    first.map((e) => [e.mode, e.depth, e.after_folds, e.leader]),
    [
      ['defrost', 3, 3, 1],
      [SCRATCH_MODE, null, 3, 1],
    ],
  );
  assert.deepEqual(first[0].gap, meanInterval(pairedDifferences(D1.slice(0, 3), D3.slice(0, 3)), 0.99));
  // Depth 2 trails at 95% after three folds, but not at 99%: it continues.
  const gap2 = meanInterval(pairedDifferences(D1.slice(0, 3), D2.slice(0, 3)), 0.95);
  assert.ok(gap2[0] !== null && gap2[0] > 0, 'the fixture: significant at 95% after three folds');
  const { eliminated, trainedFolds } = replayRace(all, candidates, 'defrost', FOLDS);
  assert.deepEqual(
    eliminated.map((e) => [e.depth, e.after_folds]),
    [
      [3, 3],
      [null, 3],
      [2, 4],
    ],
  );
  assert.deepEqual(Object.fromEntries(trainedFolds), { 'defrost/0': 5, 'defrost/1': 5, 'defrost/2': 4, 'defrost/3': 3, scratch: 3 });
  // Replayed on the race's own runs (none past an elimination) the answer is the same.
  const raced = all.filter((r) => r.fold < (trainedFolds.get(r.depth === null ? r.mode : `${r.mode}/${r.depth}`) ?? 0));
  assert.deepEqual(replayRace(raced, candidates, 'defrost', FOLDS).eliminated, eliminated);
});

test('stopped candidates take no part in l* or the plausible set; gains over them use their folds; the report names them', () => {
  // Depth 2 stopped after three folds; its (made-up) partial mean would beat every finished depth.
  const all = results([D0, D1, D2, D3], SCR);
  const stopped = [{ mode: 'defrost', depth: 2, after_folds: 3, leader: 1, gap: [0.01, 0.05, 0.09] as const }];
  const partial = all.filter((r) => !(r.depth === 2 && r.fold >= 3)).map((r) => (r.depth === 2 ? { ...r, accuracy: 0.875 } : r));
  const r = recommendation(partial, ['defrost'], FOLDS, 3, [], stopped);
  assert.equal(r.l_star, 1, 'l* among the depths that trained every fold');
  assert.ok(!r.plausible.includes(2));
  assert.equal(r.depths['2'], 0.875, 'its mean over the folds it trained');
  const json = JSON.parse(recommendationJson(r)) as { eliminated: unknown };
  assert.deepEqual(json.eliminated, [{ mode: 'defrost', depth: 2, after_folds: 3, leader: 1, gap: [0.01, 0.05, 0.09] }]);
  const text = recommendationText(r, { data: 'imgs/', model: 'net/model.json', rows: 300, classes: 5 });
  assert.match(
    text.replace(/\n {4}/g, ' '),
    /early elimination \(99% paired intervals.*\): depth 2 stopped after 3 folds, -5\.0 points \[-9\.0, -1\.0\] against depth 1/,
  );
  for (const line of text.split('\n')) assert.ok([...line].length <= 100, line);

  const none = recommendation(all, ['defrost'], FOLDS, 3, [], []);
  assert.deepEqual(JSON.parse(recommendationJson(none)).eliminated, []);
  assert.match(recommendationText(none, { data: 'd', model: 'm', rows: 1, classes: 2 }), /every depth and scratch trained all 5 folds/);
});

test('each round plans the folds reached, without the answer until the last', () => {
  const request: RecommendRequest = {
    data: { spec: { path: '/d.npy' }, sha256: 'a'.repeat(64), images: { size: null, channels: null }, label: 'd.npy' },
    model: { path: '/m/model.json', sha256: 'b'.repeat(64), blocks: null, label: 'm/model.json' },
    folds: FOLDS,
    blocks: 3,
    modes: ['defrost'],
    protocols: [],
    seed: 0,
    train: { optimizer: 'adam', learning_rate: 0.001, momentum: 0.9, batch_size: 32, epochs: 5, min_steps: 0, early_stopping: null },
  };
  const depths = [0, 1, 2, 3];
  const cv = (specs: ReturnType<typeof planRecommendRuns>): string[] =>
    specs
      .filter((s) => s.stage === 'cv-train')
      .map((s) => `${String(s.coords.mode)}/${String(s.coords.depth ?? '-')}/${String(s.coords.fold)}`);
  const exhaustive = planRecommendRuns(request, depths);
  assert.equal(cv(exhaustive).length, 25);
  const firstRound = planRecommendRuns(request, depths, {
    trainedFolds: new Map(raceCandidates(['defrost'], depths).map((c) => [c.depth === null ? c.mode : `${c.mode}/${c.depth}`, 3])),
    answer: false,
  });
  assert.equal(cv(firstRound).length, 15);
  assert.ok(!firstRound.some((s) => s.stage === 'recommend'));
  const trainedFolds = new Map([
    ['defrost/0', 5],
    ['defrost/1', 5],
    ['defrost/2', 4],
    ['defrost/3', 3],
    ['scratch', 3],
  ]);
  const last = planRecommendRuns(request, depths, { trainedFolds, answer: true });
  assert.equal(cv(last).length, 20);
  // The same fold runs as the exhaustive plan's: same keys' params, a subset.
  const params = (specs: ReturnType<typeof planRecommendRuns>): string[] =>
    specs.filter((s) => s.stage === 'cv-train').map((s) => JSON.stringify(s.params));
  assert.ok(params(last).every((p) => params(exhaustive).includes(p)));
  const answer = last.find((s) => s.stage === 'recommend');
  assert.equal(answer?.params.elimination, true);
  assert.equal(exhaustive.find((s) => s.stage === 'recommend')?.params.elimination, false);
});
