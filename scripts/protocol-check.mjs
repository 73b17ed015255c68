// The measurements behind docs/protocol.md, "Stopping, selection and test" (issue: honest
// selection): runs the default study under its new protocol and under variations into one store,
// then prints, as Markdown tables,
//   1. the optimism of each split per depth: mean over runs of (stopping accuracy - test) and of
//      (selection accuracy - test), with a 95% normal interval over runs;
//   2. the same for `validation: held_out`;
//   3. seed-split agreement (seeds 0-3 against 4-7) and task-split agreement (tasks 0-2 against
//      3-5): cells where each l* lies in the other's plausible set;
//   4. l* under external and held_out, cell by cell.
// Usage: node scripts/protocol-check.mjs [STORE] (default /tmp/defrost-protocol-check); reruns
// reuse the store's cached instances. Takes ~4 studies of the default size.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const store = process.argv[2] ?? '/tmp/defrost-protocol-check';
const config = join(root, 'experiments', 'default.yaml');

const studies = {
  default: [],
  seeds47: ['seeds=[4,5,6,7]'],
  tasks35: ['task_seeds=[3,4,5]'],
  heldOut: ['validation=held_out'],
};

/** Runs one study (cached instances are reused) and returns its report JSON and results rows. */
function study(sets) {
  const args = (cmd) => [join(root, 'bin', 'defrost.js'), cmd, config, '--store', store, ...sets.flatMap((s) => ['--set', s])];
  execFileSync(process.execPath, [...args('run'), '--jobs', process.env.JOBS ?? '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cells = JSON.parse(execFileSync(process.execPath, [...args('report'), '--json'], { encoding: 'utf8' }).trim().split('\n').pop()).cells;
  const text = execFileSync(process.execPath, args('report'), { encoding: 'utf8' });
  const html = /Report: (\S+report\.html)/.exec(text)?.[1] ?? /(\S+\/report\.html)/.exec(text)?.[1];
  const table = tableFromIPC(readFileSync(join(dirname(html), 'results.arrow')));
  const rows = table.toArray().map((r) => r.toJSON());
  return { cells, rows };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const fmt = (x) => (x >= 0 ? '+' : '') + x.toFixed(4);
const ci = (xs) => `${fmt(mean(xs))} [${fmt(mean(xs) - 1.96 * (sd(xs) / Math.sqrt(xs.length)))}, ${fmt(mean(xs) + 1.96 * (sd(xs) / Math.sqrt(xs.length)))}]`;

function biasTable(title, rows) {
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
      `| ${mode} | ${depth || '-'} | ${ok.length} | ${ci(ok.map((r) => r.validation_accuracy - r.test_accuracy))} | ${ci(ok.map((r) => r.selection_accuracy - r.test_accuracy))} |`,
    );
  }
  return out.join('\n');
}

const cellKey = (c) => `${c.correlation}|${c.n}|${c.mode}`;
function agreement(a, b) {
  const byKey = new Map(b.cells.map((c) => [cellKey(c), c]));
  let both = 0;
  const misses = [];
  for (const c of a.cells) {
    const o = byKey.get(cellKey(c));
    if (o && o.plausible.includes(c.l_star) && c.plausible.includes(o.l_star)) both++;
    else if (o) misses.push(`rho ${c.correlation}, n ${c.n}, ${c.mode}: ${c.l_star} {${c.plausible}} vs ${o.l_star} {${o.plausible}}`);
  }
  return `${both} of ${a.cells.length} cells${misses.length ? ` (not: ${misses.join('; ')})` : ''}`;
}

const results = {};
for (const [name, sets] of Object.entries(studies)) {
  console.error(`study ${name}: ${sets.join(' ') || '(the file as it is)'}`);
  results[name] = study(sets);
}
console.log(biasTable('validation: external (the default study)', results.default.rows));
console.log('');
console.log(biasTable('validation: held_out', results.heldOut.rows));
console.log('');
console.log(`Seed-split agreement (seeds 0-3 vs 4-7, tasks 0-2): ${agreement(results.default, results.seeds47)}`);
console.log(`Task-split agreement (tasks 0-2 vs 3-5, seeds 0-3): ${agreement(results.default, results.tasks35)}`);
console.log('');
console.log('| correlation | n | mode | l* external {plausible} | l* held_out {plausible} |');
console.log('| --- | --- | --- | --- | --- |');
const held = new Map(results.heldOut.cells.map((c) => [cellKey(c), c]));
for (const c of results.default.cells) {
  const h = held.get(cellKey(c));
  console.log(`| ${c.correlation} | ${c.n} | ${c.mode} | ${c.l_star} {${c.plausible}} | ${h ? `${h.l_star} {${h.plausible}}` : '-'} |`);
}
