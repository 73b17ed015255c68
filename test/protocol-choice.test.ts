/**
 * "Which protocol, and at which setting?" per cell (stages/lib/report/protocol-choice.ts): the
 * best (protocol, setting) pair on selection, its plausible set across protocols paired by unit,
 * each protocol's best setting and its paired test gains over l = L, l = 0 and the best l*.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestOfMode, chooseProtocol, pairLabel, significantGain, type Candidate } from '../stages/lib/report/protocol-choice.js';

const c = (mode: string, setting: number, selection: number[], test: number[] = selection, symbol = 'l'): Candidate => ({
  mode,
  setting,
  symbol,
  selection,
  test,
});

// Four units; defrost deepest first (the tie order), then the protocols.
const freezeAll = c('defrost', 2, [0.6, 0.62, 0.61, 0.6]);
const middle = c('defrost', 1, [0.7, 0.71, 0.69, 0.72]);
const fineTune = c('defrost', 0, [0.65, 0.66, 0.64, 0.66]);
const llrdLow = c('llrd', 0.25, [0.71, 0.7, 0.7, 0.73], [0.8, 0.81, 0.79, 0.8], 'γ');
const llrdHigh = c('llrd', 0.5, [0.5, 0.52, 0.51, 0.49], undefined, 'γ');
const l2sp = c('l2sp', 0.1, [0.7, 0.71, 0.69, 0.72], undefined, 'α');
const candidates = [freezeAll, middle, fineTune, llrdLow, llrdHigh, l2sp];

test('the best pair is the highest mean selection; near ties stay plausible, clear losers do not', () => {
  const choice = chooseProtocol(candidates, { freezeAll, fineTuneAll: fineTune, bestPrefix: bestOfMode(candidates, 'defrost') });
  assert.ok(choice);
  assert.equal(pairLabel(choice.best), 'llrd γ=0.25');
  assert.deepEqual(choice.plausible.map(pairLabel), ['defrost l=1', 'llrd γ=0.25', 'l2sp α=0.1']);
  assert.deepEqual(
    choice.byMode.map((b) => pairLabel(b)),
    ['defrost l=1', 'llrd γ=0.25', 'l2sp α=0.1'],
  );
  const llrd = choice.byMode[1];
  // Test gains, paired by unit: llrd's test scores minus l = L's, l = 0's and l* (= 1)'s.
  assert.ok(Math.abs((llrd.vsFreezeAll?.[1] ?? 0) - (0.8 - 0.6075)) < 1e-12);
  assert.ok(Math.abs((llrd.vsBestPrefix?.[1] ?? 0) - (0.8 - 0.705)) < 1e-12);
  assert.ok(significantGain(llrd.vsBestPrefix));
  // l2sp equals defrost l = 1 unit by unit: no gain, and a zero-spread difference is no significant gain.
  assert.equal(choice.byMode[2].vsBestPrefix?.[1], 0);
  assert.ok(!significantGain(choice.byMode[2].vsBestPrefix));
});

test('a tie of means goes to the earlier candidate (the prefix mode, deepest depth first)', () => {
  const twin = c('surgical', 1, [...middle.selection], undefined, 'b');
  const choice = chooseProtocol([freezeAll, middle, twin], { freezeAll, fineTuneAll: null, bestPrefix: middle });
  assert.equal(choice?.best.mode, 'defrost');
  assert.equal(choice?.best.vsFineTuneAll, null, 'no l = 0 run: no gain over it');
  assert.equal(bestOfMode([c('defrost', 3, [0.5, 0.5]), c('defrost', 1, [0.5, 0.5])], 'defrost')?.setting, 3);
});

test('missing runs are left out; a cell without selection scores has no answer', () => {
  const partial = c('gradual', 0, [Number.NaN, 0.9, 0.9, Number.NaN]);
  const choice = chooseProtocol([freezeAll, partial], { freezeAll, fineTuneAll: null, bestPrefix: freezeAll });
  assert.equal(choice?.best.mode, 'gradual');
  assert.equal(chooseProtocol([c('defrost', 0, [Number.NaN, Number.NaN])], { freezeAll: null, fineTuneAll: null, bestPrefix: null }), null);
});
