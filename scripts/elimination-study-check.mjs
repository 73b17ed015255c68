#!/usr/bin/env node
// Early elimination replayed on a study's cells (docs/protocol.md#early-elimination-in-a-study,
// what `transfer.eliminate` does): in every cell (correlation, n, mode) the depths (not scratch)
// race over the replicates (task instance x seed, interleaved by task so that every round holds
// every task: (t0,s0), (t1,s0), (t2,s0), (t0,s1), ...) with recommend's rule (stages/lib/race.ts) on selection accuracy; l* is the
// study's rule (stages/lib/statistics.ts, tasks as the unit) among the depths that finish. Checked
// per cell: that l* lies in the study's own plausible set (optimal_depth.arrow) and every
// eliminated depth outside it; the cost is the runs' own seconds, all against those the race trains.
//
// Usage: node scripts/elimination-study-check.mjs STORE/aggregate/KEY [--replicates]
// (the aggregate instance of a finished study, e.g. `defrost ls --stage aggregate`).
// Prints one line per cell and one JSON line last.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('elimination-study-check: give the aggregate instance directory of a finished study\n');
  process.exit(2);
}
const { replayRace, candidateKey } = await import(join(root, 'dist', 'stages', 'lib', 'race.js'));
const { bestDepth } = await import(join(root, 'dist', 'stages', 'lib', 'statistics.js'));
const rowsOf = (file) =>
  tableFromIPC(readFileSync(join(dir, file)))
    .toArray()
    .map((r) => r.toJSON());
const results = rowsOf('results.arrow');
// `--replicates`: race over task x seed replicates as if independent (ignoring the task level).
const byTask = !process.argv.includes('--replicates');
const answers = rowsOf('optimal_depth.arrow');

const lines = [];
for (const cell of answers) {
  const same = (r) => r.correlation === cell.correlation && r.n === cell.n;
  const runs = results.filter((r) => same(r) && (r.mode === cell.mode || r.mode === 'scratch'));
  const tasks = [...new Set(runs.map((r) => r.task_seed))].sort((a, b) => a - b);
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  // Replicate index, interleaved by task.
  const replicate = (r) => seeds.indexOf(r.seed) * tasks.length + tasks.indexOf(r.task_seed);
  const units = tasks.length * seeds.length;
  const raceResults = runs.map((r) => ({ mode: r.mode, depth: r.mode === 'scratch' ? null : r.depth, fold: replicate(r), accuracy: r.selection_accuracy }));
  const depths = [...new Set(runs.filter((r) => r.mode === cell.mode).map((r) => r.depth))].sort((a, b) => a - b);
  const taskOf = Array.from({ length: units }, (_, i) => tasks[i % tasks.length]);
  // With task instances, the race tests over them (as the study's final test does); else over seeds.
  const { eliminated, trainedFolds } = replayRace(raceResults, depths.map((depth) => ({ mode: cell.mode, depth })), cell.mode, units, byTask ? taskOf : null);
  const stopped = new Set(eliminated.filter((e) => e.depth !== null).map((e) => e.depth));
  const byDepth = new Map(
    depths
      .filter((d) => !stopped.has(d))
      .map((d) => {
        const scores = new Array(units).fill(Number.NaN);
        for (const r of raceResults) if (r.mode === cell.mode && r.depth === d) scores[r.fold] = r.accuracy;
        return [d, scores];
      }),
  );
  const lStar = bestDepth(byDepth, taskOf);
  const plausible = [...cell.plausible_depths];
  const seconds = (list) => list.reduce((sum, r) => sum + r.seconds, 0);
  const kept = runs.filter((r) => replicate(r) < trainedFolds.get(candidateKey({ mode: r.mode, depth: r.mode === 'scratch' ? null : r.depth })));
  const line = {
    cell: `${cell.correlation}/${cell.n}/${cell.mode}`,
    study: { l_star: cell.optimal_depth, plausible },
    l_star: lStar,
    eliminated: eliminated.map((e) => `${e.depth === null ? 'scratch' : e.depth}@${e.after_folds}`),
    l_star_in_plausible: plausible.includes(lStar),
    eliminated_outside: eliminated.every((e) => e.depth === null || !plausible.includes(e.depth)),
    seconds: { all: seconds(runs), raced: seconds(kept) },
  };
  lines.push(line);
  process.stdout.write(
    `${line.cell.padEnd(18)} study l* ${cell.optimal_depth} {${plausible}}  raced l* ${lStar}, stopped ${line.eliminated.join(' ') || 'none'}; ` +
      `seconds ${line.seconds.all.toFixed(0)} -> ${line.seconds.raced.toFixed(0)}\n`,
  );
}
// Scratch runs are shared by a correlation and n's two modes: count each once, trained if either race trained it.
const total = (key) => lines.reduce((sum, l) => sum + l.seconds[key], 0);
process.stdout.write(
  `${JSON.stringify({
    cells: lines.length,
    l_star_in_plausible: lines.filter((l) => l.l_star_in_plausible).length,
    eliminated_outside: lines.filter((l) => l.eliminated_outside).length,
    eliminated: lines.reduce((sum, l) => sum + l.eliminated.length, 0),
    cost_ratio: Math.round((100 * total('all')) / total('raced')) / 100,
  })}\n`,
);
