// The measurements behind docs/protocol.md, "What the default study shows": runs the default
// study as it is and with `validation: held_out` into one store, then prints, as Markdown,
//   1. the optimism of each split per depth: mean over runs of (stopping accuracy - test) and of
//      (selection accuracy - test), with a 95% t interval over the held-out sets the runs were
//      scored on (runs on one set share its sampling noise);
//   2. the same for `validation: held_out`;
//   3. seed-split agreement (seeds 0-1 against 2-3, each with the 3 task instances) and
//      task-split agreement (each task instance alone, with its 4 seeds, against each other):
//      cells where each l* lies in the other's plausible set, computed from the study's own
//      results.arrow with the study's own rules (stages/lib/report/optimal-depth.ts);
//   4. l* under external and held_out, cell by cell.
// Usage: node scripts/protocol-check.mjs [STORE] [STUDY...] (default store
// /tmp/defrost-protocol-check, studies: default held_out). Each study's cells and runs are saved
// beside the store (STORE-<study>.json), so the tables can be printed from studies run at
// different times (`node scripts/protocol-check.mjs STORE` with nothing left to run only prints).
// Reruns reuse the store's cached instances. Two studies of the default size.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { $ } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const store = process.argv[2] ?? '/tmp/defrost-protocol-check';
const config = join(root, 'experiments', 'default.yaml');

const studies = {
  default: [],
  held_out: ['validation=held_out'],
};
const wanted = process.argv.slice(3);
const { computeOptimalDepth } = await import(join(root, 'dist', 'stages', 'lib', 'report', 'optimal-depth.js'));
const L = 4;

/** Runs one study (cached instances are reused) and returns its report JSON and results rows. */
async function study(sets) {
  const args = (cmd) => [join(root, 'bin', 'defrost.js'), cmd, config, '--store', store, ...sets.flatMap((s) => ['--set', s])];
  await $({ stdio: ['ignore', 'ignore', 'inherit'] })`${process.execPath} ${args('run')} --jobs ${process.env.JOBS ?? '2'}`;
  const cells = JSON.parse((await $`${process.execPath} ${args('report')} --json`).stdout.trim().split('\n').pop()).cells;
  const text = (await $`${process.execPath} ${args('report')}`).stdout;
  const html = /Report: (\S+report\.html)/.exec(text)?.[1] ?? /(\S+\/report\.html)/.exec(text)?.[1];
  const table = tableFromIPC(readFileSync(join(dirname(html), 'results.arrow')));
  const rows = table.toArray().map((r) => r.toJSON());
  return { cells, rows };
}

const { default: jstat } = await import('jstat');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const fmt = (x) => (x >= 0 ? '+' : '') + x.toFixed(4);
/**
 * Mean of per-run differences with a t interval over the held-out sets they were measured on:
 * runs scored on the same stopping/selection and test sets share those sets' sampling noise, so
 * the sets (`cluster`), not the runs, are the independent units.
 */
function ci(rows, diff, cluster) {
  const groups = new Map();
  for (const r of rows) {
    const key = cluster(r);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(diff(r));
  }
  const xs = [...groups.values()].map(mean);
  const half = jstat.jStat.studentt.inv(0.975, xs.length - 1) * (sd(xs) / Math.sqrt(xs.length));
  return `${fmt(mean(rows.map(diff)))} [${fmt(mean(xs) - half)}, ${fmt(mean(xs) + half)}]`;
}

function biasTable(title, rows, cluster) {
  const out = [`#### ${title}`, '', '| mode | depth | runs | stopping - test | selection - test |', '| --- | --- | --- | --- | --- |'];
  const groups = new Map();
  for (const r of rows) {
    const key = `${r.mode}|${r.depth ?? ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  for (const [key, rs] of [...groups.entries()].sort()) {
    const [mode, depth] = key.split('|');
    const ok = rs.filter((r) => r.test_accuracy !== null && r.validation_accuracy !== null && r.selection_accuracy !== null);
    out.push(
      `| ${mode} | ${depth || '-'} | ${ok.length} | ${ci(ok, (r) => r.validation_accuracy - r.test_accuracy, cluster)} | ${ci(ok, (r) => r.selection_accuracy - r.test_accuracy, cluster)} |`,
    );
  }
  return out.join('\n');
}

const cellKey = (c) => `${c.correlation}|${c.n}|${c.mode}`;
/** The answer cells of a subset of the runs, by the study's own rules. */
function cellsOf(rows) {
  return computeOptimalDepth(rows, [], L).map((r) => ({
    correlation: r.correlation,
    n: r.n,
    mode: r.mode,
    l_star: r.optimal_depth,
    plausible: r.plausible_depths,
  }));
}
function agreement(aCells, bCells) {
  const byKey = new Map(bCells.map((c) => [cellKey(c), c]));
  let both = 0;
  const misses = [];
  for (const c of aCells) {
    const o = byKey.get(cellKey(c));
    if (o && o.plausible.includes(c.l_star) && c.plausible.includes(o.l_star)) both++;
    else if (o) misses.push(`rho ${c.correlation}, n ${c.n}, ${c.mode}: ${c.l_star} {${c.plausible}} vs ${o.l_star} {${o.plausible}}`);
  }
  return `${both} of ${aCells.length} cells${misses.length ? ` (not: ${misses.join('; ')})` : ''}`;
}
const sizes = (cells) => {
  const counts = [0, 0, 0, 0, 0, 0];
  for (const c of cells) counts[c.plausible.length]++;
  return counts.slice(1).join('/');
};

const results = {};
for (const [name, sets] of Object.entries(studies)) {
  const saved = `${store}-${name}.json`;
  if (wanted.includes(name) || (wanted.length === 0 && !existsSync(saved))) {
    console.error(`study ${name}: ${sets.join(' ') || '(the file as it is)'}`);
    writeFileSync(saved, JSON.stringify(await study(sets)));
  }
  if (existsSync(saved)) results[name] = JSON.parse(readFileSync(saved, 'utf8'));
}
if (Object.keys(results).length < Object.keys(studies).length) {
  console.error(`saved: ${Object.keys(results).join(', ')}; run the others to print the tables`);
  process.exit(0);
}
results.heldOut = results.held_out;
// External sets belong to a task instance and correlation; held-out ones to a run's own n samples.
console.log(biasTable('validation: external (the default study)', results.default.rows, (r) => `${r.task_seed}|${r.correlation}`));
console.log('');
console.log(biasTable('validation: held_out', results.heldOut.rows, (r) => `${r.task_seed}|${r.correlation}|${r.n}|${r.seed}`));
const byN = (rows) =>
  [...new Set(rows.map((r) => r.n))]
    .sort((a, b) => a - b)
    .map((n) => {
      const at = rows.filter((r) => r.n === n && r.selection_accuracy !== null);
      return `n = ${n}: ${fmt(mean(at.map((r) => r.selection_accuracy - r.test_accuracy)))}`;
    })
    .join(', ');
console.log('');
console.log(`Selection - test by n: external ${byN(results.default.rows)}; held_out ${byN(results.heldOut.rows)}`);
console.log('');
const rows = results.default.rows.map((r) => ({ ...r, depth: r.depth ?? null, task_seed: r.task_seed ?? null }));
const seedsA = cellsOf(rows.filter((r) => r.seed <= 1));
const seedsB = cellsOf(rows.filter((r) => r.seed >= 2));
console.log(`Seed-split agreement (seeds 0-1 vs 2-3, each over the 3 task instances): ${agreement(seedsA, seedsB)}`);
const byTask = [0, 1, 2].map((t) => cellsOf(rows.filter((r) => r.task_seed === t).map((r) => ({ ...r, task_seed: null }))));
for (const [i, j] of [
  [0, 1],
  [0, 2],
  [1, 2],
])
  console.log(`Task-split agreement (task ${i} vs task ${j}, 4 seeds each): ${agreement(byTask[i], byTask[j])}`);
console.log(`Plausible-set sizes (1/2/3/4/5 depths): default ${sizes(results.default.cells)}, held_out ${sizes(results.heldOut.cells)}`);
console.log('');
console.log('| correlation | n | mode | l* external {plausible} | l* held_out {plausible} |');
console.log('| --- | --- | --- | --- | --- |');
const held = new Map(results.heldOut.cells.map((c) => [cellKey(c), c]));
for (const c of results.default.cells) {
  const h = held.get(cellKey(c));
  console.log(`| ${c.correlation} | ${c.n} | ${c.mode} | ${c.l_star} {${c.plausible}} | ${h ? `${h.l_star} {${h.plausible}}` : '-'} |`);
}
