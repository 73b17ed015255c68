/**
 * Issue 13's stability property on a small config (experiments/quick.yaml, the real stages): two
 * studies that differ only in their seed lists give answers that agree up to their uncertainty.
 * In all but at most one cell, each study's l* lies in the other's plausible set. Also checks
 * that `report --json` has the documented shape (docs/protocol.md), and that the table the README
 * quotes for `defrost run experiments/quick.yaml` is what a fresh run prints (the README's figure
 * cannot go stale: regenerate it with `node scripts/readme-quick-table.mjs`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, QUICK, ROOT } from './engine-helpers.js';

const store = mkdtempSync(join(tmpdir(), 'defrost-stability-'));
after(() => rmSync(store, { recursive: true, force: true }));

function cli(args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' };
  delete env.DEFROST_PROJECT_MODULE;
  const r = spawnSync(process.execPath, [BIN, ...args, '--store', store], { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `defrost ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Cell {
  correlation: number | null;
  n: number;
  mode: string;
  l_star: number;
  plausible: number[];
  test_accuracy: number;
  gain_vs_full: [number | null, number, number | null];
  gain_vs_scratch: [number | null, number, number | null];
  verdict: string | null;
}

function study(seeds: string): Cell[] {
  cli(['run', QUICK, '--set', `seeds=${seeds}`, '--jobs', '2']);
  const lines = cli(['report', QUICK, '--set', `seeds=${seeds}`, '--json'])
    .trim()
    .split('\n');
  return (JSON.parse(lines[lines.length - 1]) as { cells: Cell[] }).cells;
}

test('two seed lists: each l* lies in the other study’s plausible set in all but at most one cell', () => {
  const a = study('[0,1,2]');
  const b = study('[3,4,5]');
  assert.equal(a.length, 2 * 3 * 2, 'quick.yaml: 2 correlations x 3 sizes x 2 modes');
  assert.equal(b.length, a.length);
  for (const cell of a) {
    assert.deepEqual(Object.keys(cell), [
      'correlation',
      'n',
      'mode',
      'l_star',
      'plausible',
      'test_accuracy',
      'gain_vs_full',
      'gain_vs_zero',
      'gain_vs_scratch',
      'verdict',
    ]);
    assert.match(String(cell.verdict), /^(freeze|fine-tune|train from scratch)/, 'the cell in one sentence');
    assert.ok(cell.plausible.includes(cell.l_star));
    const [low, mean, high] = cell.gain_vs_full;
    assert.ok(low !== null && high !== null && low <= mean && mean <= high, `interval ${cell.gain_vs_full}`);
  }
  const agree = a.filter((x, i) => {
    const y = b[i];
    assert.deepEqual([y.correlation, y.n, y.mode], [x.correlation, x.n, x.mode]);
    return y.plausible.includes(x.l_star) && x.plausible.includes(y.l_star);
  }).length;
  assert.ok(agree >= a.length - 1, `agreement in ${agree} of ${a.length} cells`);
});

test("the README's quick.yaml table is what a fresh run prints", () => {
  // Seeds [0,1,2] are quick.yaml's own: the first test's study is cached in this store.
  cli(['run', QUICK, '--jobs', '2']);
  const printed = cli(['report', QUICK]);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const quoted = /<!-- quick-table -->\n```\n([\s\S]*?)```\n<!-- \/quick-table -->/.exec(readme);
  assert.ok(quoted, 'README.md holds the quick.yaml table between <!-- quick-table --> markers');
  const table = (text: string): string =>
    text
      .split('\n')
      .filter((line) => !/^(Report|Report of this run|Run \S+ recorded)/.test(line))
      .join('\n')
      .trim();
  assert.equal(table(quoted[1]), table(printed), 'README.md quick table is stale: run `node scripts/readme-quick-table.mjs`');
});
