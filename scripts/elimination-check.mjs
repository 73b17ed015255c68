#!/usr/bin/env node
// Early elimination against exhaustive cross-validation on the worked example of
// docs/your-data.md, over independent data draws (docs/your-data.md#early-elimination).
//
// Each draw takes its own 300 images of Fashion-MNIST classes 5-9 (60 per class, drawn without
// replacement from the training split by the seeded stream `elimination-check/draw<i>`), writes
// them as features.npy + labels.npy, and runs `defrost recommend --exhaustive` on them with the
// worked example's source network and training recipe (experiments/example-your-data.yaml).
// Every fold run of a recommend with elimination is a fold run of the exhaustive one (same key),
// so the race is replayed on the exhaustive fold accuracies with the command's own rule
// (stages/lib/race.ts) and answered with its own answer (stages/recommend/answer.ts): the
// recommendation elimination gives, exactly, without training twice. Checked per draw: l* with
// elimination lies in the exhaustive plausible set, and every eliminated depth lies outside it.
// The cost is the sum of the fold runs' own durations (manifests), exhaustive against the runs the
// race trains.
//
// Usage: node scripts/elimination-check.mjs --model NET/model.json [--draws 20] [--first 0] [--min-steps 0]
//          [--out DIR] [--jobs 2] [--defrost bin/defrost.js] [--per-class 60] [--depths LIST]
//          [--set train.key=value]...
// --per-class N takes the first N images per class of each draw (13: the n = 50-equivalent folds
// of docs/protocol.md#recommend-at-small-n), --depths is recommend's, and each --set comes after
// the worked example's recipe (e.g. --set train.min_steps=2000, recommend's own default).
// The network: `node scripts/example-your-data.mjs --out DIR` leaves it in DIR/network/model.json.
// Prints a table per draw and one JSON line last: {"draws":N,"l_star_in_plausible":k,
// "eliminated_outside":k,"cost_ratio":r,...}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const model = option('--model', null);
if (model === null) {
  process.stderr.write('elimination-check: --model NET/model.json is required (scripts/example-your-data.mjs leaves one)\n');
  process.exit(2);
}
const draws = Number(option('--draws', '20'));
const first = Number(option('--first', '0'));
const out = resolve(option('--out', 'bench/out/elimination'));
const jobs = option('--jobs', '2');
const defrostBin = resolve(option('--defrost', join(root, 'bin', 'defrost.js')));
// A defrost from before early elimination trains every depth without being asked to.
const exhaustiveFlag = args.includes('--before-elimination') ? [] : ['--exhaustive'];
const perClass = Number(option('--per-class', '60'));
const depthsFlag = option('--depths', null) === null ? [] : ['--depths', option('--depths', null)];
const classes = [5, 6, 7, 8, 9];

const { Rng } = await import(join(root, 'dist', 'stages', 'lib', 'random.js'));
const { loadClassSubset } = await import(join(root, 'dist', 'stages', 'data', 'image-data.js'));
const { encodeNpyArray } = await import(join(root, 'dist', 'stages', 'lib', 'formats', 'npy.js'));

// The worked example's recipe, every key spelled out so that recommend's defaults do not enter.
// `--min-steps N`: the budget's floor (0 by default, as before recommend's small-n recipe; 2000 is recommend's default now).
const recipe = { min_steps: Number(option('--min-steps', '0')), ...parse(readFileSync(join(root, 'experiments', 'example-your-data.yaml'), 'utf8')).train };
const flatten = (prefix, value) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => flatten(`${prefix}.${k}`, v))
    : [`${prefix}=${JSON.stringify(value)}`];
const sets = [
  ...flatten('train', recipe),
  ...args.filter((a, i) => args[i - 1] === '--set'),
].flatMap((s) => ['--set', s]);

function writeDraw(draw, dir) {
  if (existsSync(join(dir, 'labels.npy'))) return;
  const subset = loadClassSubset('fashion-mnist', classes);
  const pixels = 28 * 28;
  const features = new Float32Array(perClass * classes.length * pixels);
  const labels = new Int32Array(perClass * classes.length);
  let row = 0;
  subset.train.forEach((cls, c) => {
    const order = new Rng(draw, `elimination-check/draw/class${c}`).permutation(cls.count);
    for (let i = 0; i < perClass; i++, row++) {
      const image = cls.images.subarray(order[i] * pixels, (order[i] + 1) * pixels);
      for (let p = 0; p < pixels; p++) features[row * pixels + p] = image[p] / 255;
      labels[row] = c;
    }
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'features.npy'), encodeNpyArray([labels.length, 28, 28, 1], features));
  writeFileSync(join(dir, 'labels.npy'), encodeNpyArray([labels.length], labels));
}

function recommend(dir, store, extra) {
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    [defrostBin, 'recommend', '--model', resolve(model), '--data', dir, '--folds', '5', '--store', store, '--jobs', jobs, '--json', ...sets, ...depthsFlag, ...extra],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`recommend on ${dir} exited ${r.status}`);
  }
  const lines = r.stdout.trim().split('\n');
  return { answer: JSON.parse(lines[lines.length - 1]), wall: (performance.now() - started) / 1000 };
}

/** Every fold run in a store: mode, depth, fold, held-out accuracy, stopped_by and seconds. */
function foldRuns(store) {
  const dir = join(store, 'cv-train');
  return readdirSync(dir).map((key) => {
    const m = JSON.parse(readFileSync(join(dir, key, 'manifest.json'), 'utf8'));
    return {
      mode: m.params.mode,
      depth: m.params.depth,
      fold: m.params.fold,
      accuracy: m.summary.accuracy,
      stoppedBy: m.summary.stopped_by,
      seconds: m.duration_s,
    };
  });
}

const { replayRace, raceCandidates, candidateKey } = await import(join(root, 'dist', 'stages', 'lib', 'race.js'));
const { recommendation } = await import(join(root, 'dist', 'stages', 'recommend', 'answer.js'));

const rows = [];
/** Per candidate over all draws: fold runs, how many the budget ended, the mean held-out accuracy. */
const candidates = new Map();
for (let draw = first; draw < first + draws; draw++) {
  const dir = join(out, `draw-${draw}`);
  const data = join(dir, 'data');
  writeDraw(draw, data);
  const resultFile = join(dir, 'exhaustive.json');
  if (!existsSync(resultFile)) {
    const { answer, wall } = recommend(data, join(dir, 'store'), exhaustiveFlag);
    writeFileSync(resultFile, `${JSON.stringify({ answer, wall, runs: foldRuns(join(dir, 'store')) })}\n`);
  }
  const { answer: exhaustive, runs } = JSON.parse(readFileSync(resultFile, 'utf8'));
  for (const r of runs) {
    const name = r.depth === null ? 'scratch' : `${r.mode} l=${r.depth}`;
    const c = candidates.get(name) ?? { runs: 0, budget: 0, accuracy: 0 };
    candidates.set(name, { runs: c.runs + 1, budget: c.budget + (r.stoppedBy === 'budget' ? 1 : 0), accuracy: c.accuracy + r.accuracy });
  }
  const depths = Object.keys(exhaustive.depths).map(Number);
  const blocks = Math.max(...depths);
  const { eliminated, trainedFolds } = replayRace(runs, raceCandidates(['defrost'], depths), 'defrost', 5);
  const raced = runs.filter((r) => r.fold < trainedFolds.get(candidateKey(r)));
  const answer = recommendation(raced, ['defrost'], 5, blocks, [], eliminated);
  const seconds = (list) => list.reduce((sum, r) => sum + r.seconds, 0);
  const row = {
    draw,
    exhaustive: { l_star: exhaustive.l_star, plausible: exhaustive.plausible },
    elimination: { l_star: answer.l_star, plausible: answer.plausible },
    eliminated: eliminated.map((e) => ({ depth: e.depth, after_folds: e.after_folds })),
    l_star_in_plausible: exhaustive.plausible.includes(answer.l_star),
    eliminated_outside: eliminated.every((e) => e.depth === null || !exhaustive.plausible.includes(e.depth)),
    seconds: { exhaustive: seconds(runs), elimination: seconds(raced) },
  };
  rows.push(row);
  const named = eliminated.map((e) => `${e.depth === null ? 'scratch' : e.depth} after ${e.after_folds}`).join(', ') || 'none';
  process.stdout.write(
    `draw ${String(draw).padStart(2)}: exhaustive l* ${exhaustive.l_star} {${exhaustive.plausible}}; elimination l* ${answer.l_star} ` +
      `{${answer.plausible}}, stopped ${named}; fold-run seconds ${row.seconds.exhaustive.toFixed(0)} -> ${row.seconds.elimination.toFixed(0)}\n`,
  );
}
for (const [name, c] of [...candidates.entries()].sort())
  process.stdout.write(`${name}: ${c.budget} of ${c.runs} fold runs ended by the budget; mean held-out accuracy ${((100 * c.accuracy) / c.runs).toFixed(1)}%\n`);
const total = (key) => rows.reduce((sum, r) => sum + r.seconds[key], 0);
process.stdout.write(
  `${JSON.stringify({
    draws: rows.length,
    l_star_in_plausible: rows.filter((r) => r.l_star_in_plausible).length,
    eliminated_outside: rows.filter((r) => r.eliminated_outside).length,
    eliminated_runs: rows.reduce((sum, r) => sum + r.eliminated.length, 0),
    cost_ratio: Math.round((100 * total('exhaustive')) / total('elimination')) / 100,
  })}\n`,
);
