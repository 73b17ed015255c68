/**
 * The aggregate tables from hand-made inputs with known accuracies: l*, means, standard errors
 * and gains are recomputed here, independently, from `results.arrow`; the printed l* table is
 * parsed back and matched against `optimal_depth.arrow`; missing runs stay missing.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { aggregateStage } from '../stages/report/aggregate.js';
import { OPTIMAL_DEPTH, RESULTS, type OptimalDepthRow, type ResultRow } from '../stages/lib/tables/report-tables.js';
import { SIMILARITY } from '../stages/lib/tables/similarity-table.js';
import { buildReport, buildTables, REPORT_FILES } from '../stages/report/build.js';
import { openingSentences } from '../stages/lib/report/html.js';
import { cellLabel, rowVerdict } from '../stages/lib/report/text-table.js';
import type { RunRecord } from '../stages/lib/report/types.js';
import { makeFixture, trainingSummary } from './report-fixture.js';
import { runStage, type RigInput } from './stage-rig.js';

const cleanup: string[] = [];
after(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

/** t(0.975, df) for df = 1..6 (SciPy stats.t.ppf), for an independent recomputation. */
const T975 = [Number.NaN, 12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851];

type Triple = [number | null, number | null, number | null];

/** Mean and 95% t interval of a list; bounds null below two values, all null when empty. */
function tInterval(xs: number[]): Triple {
  if (xs.length === 0) return [null, null, null];
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return [null, m, null];
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  const half = T975[xs.length - 1] * (sd / Math.sqrt(xs.length));
  return [m - half, m, m + half];
}

/**
 * Independent recomputation of one optimal-depth row from results rows: l* on mean selection
 * accuracy (deeper on ties), plausible set by paired t-test on selection, test accuracy at l*,
 * paired test gains over l = L and over scratch.
 */
function expectedRow(results: ResultRow[], correlation: number | null, n: number, mode: string, L: number) {
  const runs = (m: string, d: number | null) =>
    results.filter((r) => r.correlation === correlation && r.n === n && r.mode === m && r.depth === d);
  const values = (m: string, d: number | null, key: 'test_accuracy' | 'selection_accuracy') =>
    runs(m, d)
      .filter((r) => r[key] !== null)
      .map((r) => r[key] as number);
  const bySeed = (m: string, d: number | null, key: 'test_accuracy' | 'selection_accuracy') =>
    new Map(
      runs(m, d)
        .filter((r) => r[key] !== null)
        .map((r) => [r.seed, r[key] as number]),
    );
  const paired = (a: Map<number, number>, b: Map<number, number>) =>
    [...a.keys()].filter((s) => b.has(s)).map((s) => (a.get(s) as number) - (b.get(s) as number));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const se = (xs: number[]) => {
    if (xs.length < 2) return null;
    const m = avg(xs);
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
  };
  let best: number | null = null;
  let bestMean = -Infinity;
  for (let d = L; d >= 0; d--) {
    // Walking from deep to shallow with a strict '>' keeps the deeper depth on ties.
    const xs = values(mode, d, 'selection_accuracy');
    if (xs.length > 0 && avg(xs) > bestMean) {
      best = d;
      bestMean = avg(xs);
    }
  }
  const plausible: number[] = [];
  if (best !== null)
    for (let d = 0; d <= L; d++) {
      if (values(mode, d, 'selection_accuracy').length === 0) continue;
      const diff = paired(bySeed(mode, best, 'selection_accuracy'), bySeed(mode, d, 'selection_accuracy'));
      const [low, , high] = tInterval(diff);
      if (d === best || low === null || high === null || (low <= 0 && high >= 0)) plausible.push(d);
    }
  const test = best === null ? [] : values(mode, best, 'test_accuracy');
  const full = values(mode, L, 'test_accuracy');
  const scratch = values('scratch', null, 'test_accuracy');
  const atBest = best === null ? new Map<number, number>() : bySeed(mode, best, 'test_accuracy');
  return {
    optimal_depth: best,
    plausible_depths: plausible,
    optimal_selection_accuracy: best === null ? null : bestMean,
    optimal_accuracy: test.length ? avg(test) : null,
    optimal_accuracy_se: se(test),
    full_depth_accuracy: full.length ? avg(full) : null,
    scratch_accuracy: scratch.length ? avg(scratch) : null,
    scratch_accuracy_se: se(scratch),
    gain_vs_full: tInterval(paired(atBest, bySeed(mode, L, 'test_accuracy'))),
    gain_vs_zero: tInterval(paired(atBest, bySeed(mode, 0, 'test_accuracy'))),
    gain_vs_scratch: tInterval(paired(atBest, bySeed('scratch', null, 'test_accuracy'))),
  };
}

function close(actual: number | null, expected: number | null, what: string): void {
  if (expected === null) return assert.equal(actual, null, what);
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);
}

function checkAgainstResults(optimal: OptimalDepthRow[], results: ResultRow[], L: number): void {
  for (const row of optimal) {
    const e = expectedRow(results, row.correlation, row.n, row.mode, L);
    const where = `correlation ${row.correlation}, n ${row.n}, mode ${row.mode}`;
    assert.equal(row.optimal_depth, e.optimal_depth, `l* at ${where}`);
    assert.deepEqual(row.plausible_depths, e.plausible_depths, `plausible set at ${where}`);
    close(row.optimal_selection_accuracy, e.optimal_selection_accuracy, `selection accuracy at l*, ${where}`);
    close(row.optimal_accuracy, e.optimal_accuracy, `accuracy at l*, ${where}`);
    close(row.optimal_accuracy_se, e.optimal_accuracy_se, `s.e. at l*, ${where}`);
    close(row.full_depth_accuracy, e.full_depth_accuracy, `accuracy at L, ${where}`);
    close(row.scratch_accuracy, e.scratch_accuracy, `scratch accuracy, ${where}`);
    close(row.scratch_accuracy_se, e.scratch_accuracy_se, `scratch s.e., ${where}`);
    close(row.gain_vs_full_low, e.gain_vs_full[0], `gain over L, low, ${where}`);
    close(row.gain_over_full_depth, e.gain_vs_full[1], `gain over L, ${where}`);
    close(row.gain_vs_full_high, e.gain_vs_full[2], `gain over L, high, ${where}`);
    close(row.gain_vs_zero_low, e.gain_vs_zero[0], `gain over l = 0, low, ${where}`);
    close(row.gain_over_zero_depth, e.gain_vs_zero[1], `gain over l = 0, ${where}`);
    close(row.gain_vs_zero_high, e.gain_vs_zero[2], `gain over l = 0, high, ${where}`);
    close(row.gain_vs_scratch_low, e.gain_vs_scratch[0], `gain over scratch, low, ${where}`);
    close(row.gain_over_scratch, e.gain_vs_scratch[1], `gain over scratch, ${where}`);
    close(row.gain_vs_scratch_high, e.gain_vs_scratch[2], `gain over scratch, high, ${where}`);
  }
}

/** Parses the printed answer's glance grids back into (mode, correlation label, n) -> {depth, plausible} or 'missing'. */
type PrintedCell = { depth: number; plausible: number[]; partial: boolean };

function parseTextTable(text: string): Map<string, PrintedCell | 'missing'> {
  const cells = new Map<string, PrintedCell | 'missing'>();
  const grid = text.slice(text.indexOf('l* at a glance'));
  let mode = '';
  let ns: number[] = [];
  for (const line of grid.split('\n').slice(1)) {
    const head = /^ {2}mode (\S+)\s+(n=.*)$/.exec(line);
    if (head) {
      mode = head[1];
      ns = [...head[2].matchAll(/n=(\d+)/g)].map((x) => Number(x[1]));
      continue;
    }
    if (mode === '' || !/^ {2}\S/.test(line)) continue;
    const label = line.trim().startsWith('l* {plausible}') ? '(image' : line.trim().split(/\s+/)[0].replace(/^ρ=/, '');
    const found = [...line.matchAll(/(\d+)(\*?) \{([\d,]*)\}|missing/g)];
    assert.equal(found.length, ns.length, `one cell per n in: ${line}`);
    found.forEach((f, i) =>
      cells.set(
        `${mode}|${label}|${ns[i]}`,
        f[0] === 'missing' ? 'missing' : { depth: Number(f[1]), plausible: f[3].split(',').map(Number), partial: f[2] === '*' },
      ),
    );
  }
  return cells;
}

function checkTextTable(text: string, optimal: OptimalDepthRow[], blocks: number): void {
  // One sentence per cell, in full once the lines are unfolded.
  const unfolded = text.replace(/\n {6}/g, ' ');
  for (const row of optimal) {
    const sentence = rowVerdict(row, blocks);
    if (sentence !== null)
      assert.ok(unfolded.includes(`${cellLabel(row)}`) && unfolded.includes(sentence), `sentence of ${cellLabel(row)}`);
  }
  const cells = parseTextTable(text);
  assert.equal(cells.size, optimal.length, 'one printed cell per optimal_depth row');
  for (const row of optimal) {
    const cell = cells.get(`${row.mode}|${row.correlation === null ? '(image' : row.correlation}|${row.n}`);
    assert.ok(cell !== undefined, `printed cell for ${row.mode} ${row.correlation} ${row.n}`);
    if (row.optimal_depth === null) {
      assert.equal(cell, 'missing');
      continue;
    }
    assert.notEqual(cell, 'missing');
    const c = cell as PrintedCell;
    assert.equal(c.depth, row.optimal_depth);
    assert.deepEqual(c.plausible, row.plausible_depths);
    assert.equal(c.partial, row.missing_runs > 0);
  }
  for (const line of text.split('\n')) assert.ok([...line].length <= 100, `line of ${[...line].length} columns: ${line}`);
}

describe('aggregate tables', () => {
  test('complete sweep: results.arrow has every run; optimal_depth.arrow and the text table match a recomputation', async () => {
    const fx = await makeFixture({ correlations: [1, 0.8], ns: [20, 100], depth: 3 });
    cleanup.push(fx.dir);
    const out = join(fx.dir, 'out');
    const built = await buildReport({
      runs: fx.runs,
      depth: 3,
      classes: 4,
      taskKind: 'synthetic',
      outDir: out,
      subtitle: 't',
      partial: false,
    });
    const results = await RESULTS.read(join(out, REPORT_FILES.results));
    // 2 correlations x 2 n x 3 seeds x (1 scratch + 2 modes x 4 depths)
    assert.equal(results.length, 2 * 2 * 3 * 9);
    const scratch = results.filter((r) => r.mode === 'scratch');
    assert.equal(scratch.length, 12);
    assert.ok(scratch.every((r) => r.depth === null));
    assert.ok(results.every((r) => typeof r.seconds === 'number' && typeof r.test_accuracy === 'number' && r.train_steps !== null));
    // The accuracies are the inputs' own, row for row.
    for (const run of fx.runs.filter((r) => r.stage !== 'similarity' && r.stage !== 'predict')) {
      const c = run.coords;
      const row = results.find(
        (r) =>
          r.correlation === c.correlation &&
          r.n === c.n &&
          r.seed === c.seed &&
          r.mode === (c.mode ?? 'scratch') &&
          r.depth === (c.depth ?? null),
      );
      assert.equal(row?.test_accuracy, run.summary?.test_accuracy, run.id);
    }
    const optimal = await OPTIMAL_DEPTH.read(join(out, REPORT_FILES.optimalDepth));
    assert.equal(optimal.length, 2 * 2 * 2);
    assert.deepEqual(
      optimal,
      built.tables.optimal.map((r) => ({ ...r })),
    );
    checkAgainstResults(optimal, results, 3);
    checkTextTable(built.text, optimal, 3);
    assert.equal(await readFile(join(out, REPORT_FILES.text), 'utf8'), built.text);
    // The fixture's best depth is deep at rho = 1 with n = 20 and shallower at rho = 0.8.
    const l = (c: number, n: number) =>
      optimal.find((r) => r.correlation === c && r.n === n && r.mode === 'defrost')?.optimal_depth as number;
    assert.ok(l(1, 20) > l(0.8, 100), `l* moves with correlation: ${l(1, 20)} vs ${l(0.8, 100)}`);

    // The report opens with one sentence per mode, whose counts are those of the table.
    const sentences = openingSentences(built.tables);
    assert.equal(sentences.length, 2);
    const html = await readFile(built.htmlPath, 'utf8');
    for (const [i, mode] of ['defrost', 'reinit'].entries()) {
      const rows = optimal.filter((r) => r.mode === mode);
      const beats = rows.filter((r) => (r.gain_vs_full_low as number) > 0).length;
      const sharp = rows.filter((r) => r.plausible_depths.length === 1).length;
      assert.ok(
        sentences[i].startsWith(
          `Mode ${mode}: freeze ${rows
            .filter((r) => r.correlation === 1)
            .map((r) => r.optimal_depth)
            .join(', ')} at correlation 1`,
        ),
        sentences[i],
      );
      assert.match(sentences[i], new RegExp(`beyond its 95% interval in ${beats} of ${rows.length} cells`));
      assert.match(
        sentences[i],
        new RegExp(sharp === rows.length ? 'every cell singles out one depth' : `${sharp} of ${rows.length} cells single out one depth`),
      );
      assert.ok(html.includes(sentences[i].replace(/'/g, '&#39;')), 'the sentence opens the report');
    }

    const similarity = await SIMILARITY.read(join(out, REPORT_FILES.similarity));
    // per correlation: 3x3 CKA pairs + 3 blocks x 3 per-block measures
    assert.equal(similarity.length, 2 * (9 + 9));
    assert.deepEqual([...new Set(similarity.map((r) => r.correlation))], [1, 0.8]);
  });

  test('ties go to the deeper depth; one seed has no standard error and no interval', async () => {
    const run = (depth: number | null, acc: number): RunRecord => ({
      id: `r${depth}`,
      stage: depth === null ? 'train-scratch' : 'transfer',
      coords: depth === null ? { correlation: 0.5, n: 10, seed: 0 } : { correlation: 0.5, n: 10, mode: 'defrost', depth, seed: 0 },
      published: true,
      summary: trainingSummary(acc),
      durationSeconds: 1,
    });
    const tables = await buildTables({
      runs: [run(null, 0.6), run(0, 0.7), run(1, 0.8), run(2, 0.8), run(3, 0.75)],
      depth: 3,
      classes: 2,
      taskKind: 'synthetic',
    });
    const [row] = tables.optimal;
    assert.equal(row.optimal_depth, 2);
    assert.equal(row.optimal_accuracy, 0.8);
    assert.equal(row.optimal_accuracy_se, null);
    close(row.gain_over_full_depth, 0.05, 'gain over L');
    close(row.gain_over_scratch, 0.2, 'gain over scratch');
    assert.equal(row.gain_vs_full_low, null);
    assert.equal(row.gain_vs_full_high, null);
    assert.deepEqual(row.plausible_depths, [0, 1, 2, 3], 'one seed rules nothing out');
  });

  test('l* is chosen on selection, not on test or on the stopping split: a constructed case where they disagree', async () => {
    // Depth 1 is best on selection on every seed; depth 2 is best on test on every seed, and
    // depth 0 best on the stopping split (which only stops runs).
    const runs: RunRecord[] = [];
    for (const seed of [0, 1, 2, 3])
      for (const [depth, validation, test] of [
        [0, 0.7, 0.7],
        [1, 0.85, 0.75],
        [2, 0.75, 0.9],
      ] as const)
        runs.push({
          id: `t${depth}-${seed}`,
          stage: 'transfer',
          coords: { correlation: 0.5, n: 10, mode: 'defrost', depth, seed },
          published: true,
          summary: trainingSummary(test + 0.001 * seed, validation + 0.002 * ((seed * (depth + 1)) % 3), depth, depth === 0 ? 0.99 : 0.6),
          durationSeconds: 1,
        });
    const [row] = (await buildTables({ runs, depth: 2, classes: 2, taskKind: 'synthetic' })).optimal;
    assert.equal(row.optimal_depth, 1, 'selection chooses depth 1');
    assert.deepEqual(row.plausible_depths, [1]);
    close(row.optimal_accuracy, 0.7515, 'the test accuracy reported is that of depth 1');
    // Scored on test, the chosen depth loses to l = L: the gain is negative, and says so.
    assert.ok((row.gain_over_full_depth as number) < 0 && (row.gain_vs_full_high as number) < 0, `${row.gain_vs_full_high}`);
  });

  test('partial sweep: missing runs are left out of the means, counted, and shown as missing', async () => {
    const failed = (r: RunRecord): boolean =>
      // every reinit run at (0.8, 100): that cell has no answer at all
      (r.coords.correlation === 0.8 && r.coords.n === 100 && r.coords.mode === 'reinit') ||
      // seed 1 of everything at (1, 20): means over seeds 0 and 2 only
      (r.coords.correlation === 1 && r.coords.n === 20 && r.coords.seed === 1) ||
      // the similarity of correlation 0.8
      (r.stage === 'similarity' && r.coords.correlation === 0.8);
    const fx = await makeFixture({ correlations: [1, 0.8], ns: [20, 100], depth: 2, failed });
    cleanup.push(fx.dir);
    const out = join(fx.dir, 'out');
    const built = await buildReport({
      runs: fx.runs,
      depth: 2,
      classes: 4,
      taskKind: 'synthetic',
      outDir: out,
      subtitle: 't',
      partial: true,
    });
    const results = await RESULTS.read(join(out, REPORT_FILES.results));
    const published = fx.runs.filter((r) => r.published && r.stage !== 'similarity' && r.stage !== 'predict');
    assert.equal(results.length, published.length, 'only published runs are rows');
    assert.ok(results.every((r) => r.test_accuracy !== null && r.test_accuracy > 0));
    const optimal = await OPTIMAL_DEPTH.read(join(out, REPORT_FILES.optimalDepth));
    checkAgainstResults(optimal, results, 2);
    checkTextTable(built.text, optimal, 2);

    const hole = optimal.find((r) => r.correlation === 0.8 && r.n === 100 && r.mode === 'reinit') as OptimalDepthRow;
    assert.equal(hole.optimal_depth, null);
    assert.equal(hole.optimal_accuracy, null);
    assert.equal(hole.gain_over_scratch, null);
    assert.equal(hole.missing_runs, 3 * 3);
    const thin = optimal.find((r) => r.correlation === 1 && r.n === 20 && r.mode === 'defrost') as OptimalDepthRow;
    assert.equal(thin.seeds, 2);
    assert.equal(thin.missing_runs, 1 + 3, 'one scratch and three transfer runs of seed 1');
    const complete = optimal.find((r) => r.correlation === 1 && r.n === 100 && r.mode === 'defrost') as OptimalDepthRow;
    assert.equal(complete.missing_runs, 0);
    assert.match(built.text, /missing/);

    const similarity = await SIMILARITY.read(join(out, REPORT_FILES.similarity));
    assert.deepEqual([...new Set(similarity.map((r) => r.correlation))], [1]);
    const html = await readFile(built.htmlPath, 'utf8');
    assert.match(html, /Partial sweep: \d+ planned runs have no result/);
    assert.match(html, /Similarity missing for correlation 0\.8/);
    assert.ok(html.includes('transfer[correlation=0.8,n=100,mode=reinit,depth=0,seed=0]'), 'missing runs are listed by id');
  });

  test('the same inputs give byte-identical files', async () => {
    // A protocol beside the prefix modes, so that every table of the report is written (protocols.arrow too).
    const fx = await makeFixture({ correlations: [0.9], ns: [20], depth: 2, seeds: [0, 1], modes: ['defrost', 'reinit', 'llrd'] });
    cleanup.push(fx.dir);
    const a = join(fx.dir, 'a');
    const b = join(fx.dir, 'b');
    await buildReport({ runs: fx.runs, depth: 2, classes: 3, taskKind: 'synthetic', outDir: a, subtitle: 't', partial: false });
    await buildReport({
      runs: [...fx.runs].reverse(),
      depth: 2,
      classes: 3,
      taskKind: 'synthetic',
      outDir: b,
      subtitle: 't',
      partial: false,
    });
    for (const file of Object.values(REPORT_FILES)) assert.ok((await readFile(join(a, file))).equals(await readFile(join(b, file))), file);
  });

  test('the aggregate stage writes every table from its inputs; image tasks have a null correlation', async () => {
    const fx = await makeFixture({ correlations: [null], ns: [20, 50], depth: 2, seeds: [0, 1], modes: ['defrost'] });
    cleanup.push(fx.dir);
    const runs: RigInput[] = fx.runs.map((r) => ({
      id: r.id,
      stage: r.stage,
      key: `k-${r.id}`,
      dir: r.dir as string,
      coords: r.coords,
      summary: r.summary ?? {},
      durationSeconds: r.durationSeconds ?? 0,
    }));
    const outDir = join(fx.dir, 'stage-out');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(outDir);
    const { outcome } = await runStage(aggregateStage, {
      params: { classes: 5, depth: 2, task_kind: 'image', validation: 'external', tasks: 1 },
      inputs: { runs },
      outDir,
    });
    assert.equal(outcome.summary?.runs, 2 * 2 * (1 + 3));
    const results = await RESULTS.read(join(outDir, REPORT_FILES.results));
    assert.ok(results.length > 0 && results.every((r) => r.correlation === null));
    const optimal = await OPTIMAL_DEPTH.read(join(outDir, REPORT_FILES.optimalDepth));
    assert.equal(optimal.length, 2);
    checkAgainstResults(optimal, results, 2);
    checkTextTable(await readFile(join(outDir, REPORT_FILES.text), 'utf8'), optimal, 2);
    assert.match(await readFile(join(outDir, REPORT_FILES.html), 'utf8'), /<svg/);
  });
});
