/**
 * `defrost report` and the end-of-run text against a store: instances of the planned
 * `experiments/quick.yaml` are published by hand (manifests with known accuracies, similarity
 * tables), some left out. The report is then built from what is published, with the rest
 * marked missing; once the aggregate is published, its own text is re-printed.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../pipeline/config-loader.js';
import { buildDag, type PlannedInstance } from '../pipeline/dag.js';
import { MANIFEST_FORMAT } from '../pipeline/manifest.js';
import type { JsonObject } from '../pipeline/stage.js';
import { Store } from '../pipeline/store.js';
import { aggregateStage } from '../stages/report/aggregate.js';
import { reportForConfig } from '../stages/report/report-command.js';
import { defrostProject } from '../stages/project.js';
import { BAND, PREDICTION } from '../stages/lib/tables/prediction-tables.js';
import { OPTIMAL_DEPTH, RESULTS } from '../stages/lib/tables/report-tables.js';
import { SIMILARITY, type SimilarityRow } from '../stages/lib/tables/similarity-table.js';
import type { RunInstance } from '../pipeline/project.js';
import { reportAfterRun } from '../stages/report/after-run.js';
import { runStage, scratchDir, type RigInput } from './stage-rig.js';
import { trainingSummary } from './report-fixture.js';

const CONFIG = 'experiments/quick.yaml';
const cleanup: string[] = [];
after(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

/** Publishes an instance by hand: its files, then a manifest the engine accepts. */
async function publish(store: string, inst: PlannedInstance, summary: JsonObject, files: Record<string, Uint8Array> = {}): Promise<string> {
  const dir = join(store, inst.stage, inst.key);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
  const inputs = Object.fromEntries(Object.entries(inst.inputs).map(([n, r]) => [n, { stage: r.stage, key: r.key }]));
  const manifest = {
    format: MANIFEST_FORMAT,
    key: inst.key,
    stage: inst.stage,
    id: inst.id,
    coords: inst.coords,
    params: inst.params,
    inputs,
    code: { fingerprint: inst.code.fingerprint, files: [] },
    files: [],
    summary,
    created: '2026-01-01T00:00:00.000Z',
    duration_s: 1.5,
    backend: 'test',
    threads: 1,
    versions: {},
    log: 'log.txt',
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** Accuracy of a planned run: known, and different per coordinate. */
function accuracy(inst: PlannedInstance): number {
  const c = inst.coords;
  const depth = typeof c.depth === 'number' ? c.depth : -1;
  return 0.5 + 0.001 * Number(c.n) + 0.01 * depth + 0.003 * Number(c.seed) + (c.mode === 'reinit' ? -0.02 : 0);
}

describe('defrost report on a store', () => {
  test('partial sweep from published instances, then the published aggregate re-printed', async () => {
    const store = scratchDir('report-store');
    cleanup.push(store);
    // A store as `run` leaves it: marked (reports are written only in a marked store).
    new Store(store).ensureMarked(() => {});
    const { config } = loadConfig(defrostProject, CONFIG);
    const instances = buildDag(defrostProject, defrostProject.plan(config));
    const aggregate = instances.find((i) => i.stage === 'aggregate') as PlannedInstance;
    const inputs = Object.values(aggregate.inputs).map((ref) => instances.find((i) => i.id === ref.id) as PlannedInstance);
    const L = config.model.hidden.length;
    const [c0] = config.task.kind === 'synthetic' ? config.task.correlations : [null];
    const n0 = config.task.target_sizes[0];
    // Left unpublished: every seed of (c0, n0, defrost, depth 0), and the scratch run of seed 0 there.
    const isHole = (i: PlannedInstance): boolean =>
      i.coords.correlation === c0 &&
      i.coords.n === n0 &&
      ((i.stage === 'transfer' && i.coords.mode === 'defrost' && i.coords.depth === 0) ||
        (i.stage === 'train-scratch' && i.coords.seed === config.seeds[0]));
    const holes = inputs.filter(isHole);
    assert.ok(holes.length === config.seeds.length + 1);

    const published: { stage: string; key: string; dir: string }[] = [];
    for (const inst of inputs) {
      if (isHole(inst)) continue;
      let dir: string;
      if (inst.stage === 'similarity') {
        const correlation = inst.coords.correlation as number | null;
        const rows: SimilarityRow[] = [];
        for (let a = 1; a <= L; a++)
          for (let b = 1; b <= L; b++) rows.push({ correlation, block_a: a, block_b: b, measure: 'cka', value: 0.9 / (a + b) });
        dir = await publish(store, inst, {}, { [SIMILARITY.file]: await SIMILARITY.bytes(rows) });
      } else if (inst.stage === 'predict') {
        const correlation = inst.coords.correlation as number | null;
        const n = inst.coords.n as number;
        const rows = Array.from({ length: L + 1 }, (_, depth) => ({
          correlation,
          n,
          predictor: 'logme',
          depth,
          score: depth,
          predicted_depth: L,
        }));
        dir = await publish(
          store,
          inst,
          { predicted: { logme: L }, seconds: { logme: 0.5 }, shared_seconds: {} },
          {
            [PREDICTION.file]: await PREDICTION.bytes(rows),
            [BAND.file]: await BAND.bytes([]),
          },
        );
      } else {
        const acc = accuracy(inst);
        dir = await publish(store, inst, trainingSummary(acc));
      }
      published.push({ stage: inst.stage, key: inst.key, dir });
    }

    const partial = await reportForConfig({ config: CONFIG, store, project: defrostProject });
    assert.equal(partial.partial, true);
    assert.match(partial.text, new RegExp(`Partial sweep: ${holes.length} of ${inputs.length} runs have no result`));
    assert.ok(partial.text.endsWith(`Report: ${partial.htmlPath}`));
    const reportDir = join(partial.htmlPath, '..');
    const results = await RESULTS.read(join(reportDir, RESULTS.file));
    assert.equal(results.length, inputs.filter((i) => i.stage !== 'similarity' && i.stage !== 'predict' && !isHole(i)).length);
    const optimal = await OPTIMAL_DEPTH.read(join(reportDir, OPTIMAL_DEPTH.file));
    const cell = optimal.find((r) => r.correlation === c0 && r.n === n0 && r.mode === 'defrost');
    // accuracy grows with depth in this store, so l* = L everywhere; depth 0 is simply absent.
    assert.equal(cell?.optimal_depth, L);
    assert.equal(cell?.missing_runs, holes.length);
    const scratchSeeds = results.filter((r) => r.mode === 'scratch' && r.correlation === c0 && r.n === n0).map((r) => r.seed);
    assert.deepEqual(scratchSeeds, config.seeds.slice(1), 'the missing scratch seed is not a row');
    const expectedScratch = scratchSeeds.reduce((a, s) => a + 0.5 + 0.001 * n0 - 0.01 + 0.003 * s, 0) / scratchSeeds.length;
    assert.ok(Math.abs((cell?.scratch_accuracy as number) - expectedScratch) < 1e-9, 'scratch mean over the published seeds only');
    assert.match(await readFile(partial.htmlPath, 'utf8'), /Partial sweep/);

    // The end-of-run hook gets the plan and what is published from the engine.
    const runInstances = (): RunInstance[] =>
      instances.map((i) => ({
        id: i.id,
        stage: i.stage,
        key: i.key,
        dir: join(store, i.stage, i.key),
        coords: i.coords,
        params: i.params,
        inputs: i.inputs,
        published: published.some((p) => p.stage === i.stage && p.key === i.key),
      }));
    const hookText = await reportAfterRun(runInstances());
    assert.equal(hookText, partial.text);

    // Publish everything and the aggregate itself (as the engine would), then re-print.
    for (const inst of holes) {
      const acc = accuracy(inst);
      published.push({
        stage: inst.stage,
        key: inst.key,
        dir: await publish(store, inst, trainingSummary(acc)),
      });
    }
    const outDir = join(store, '.tmp-aggregate');
    await mkdir(outDir);
    const runs: RigInput[] = [];
    for (const ref of Object.values(aggregate.inputs)) {
      const inst = instances.find((i) => i.id === ref.id) as PlannedInstance;
      const manifest = JSON.parse(await readFile(join(store, inst.stage, inst.key, 'manifest.json'), 'utf8')) as { summary: JsonObject };
      runs.push({
        id: inst.id,
        stage: inst.stage,
        key: inst.key,
        dir: join(store, inst.stage, inst.key),
        coords: inst.coords,
        params: inst.params,
        summary: manifest.summary,
        durationSeconds: 1.5,
      });
    }
    await runStage(aggregateStage, { params: aggregateStage.params.parse(aggregate.params), inputs: { runs }, outDir, key: aggregate.key });
    const files = ['results.arrow', 'optimal_depth.arrow', 'similarity.arrow', 'report.html', 'optimal_depth.txt'];
    const bytes = Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(outDir, f))] as const)));
    const aggDir = await publish(store, aggregate, {}, bytes);
    const complete = await reportForConfig({ config: CONFIG, store, project: defrostProject });
    assert.equal(complete.partial, false);
    assert.equal(complete.htmlPath, join(aggDir, 'report.html'));
    assert.doesNotMatch(complete.text, /Partial sweep|missing/);
    assert.equal(complete.text, `${bytes['optimal_depth.txt'].toString('utf8').trimEnd()}\n\nReport: ${join(aggDir, 'report.html')}`);
    published.push({ stage: 'aggregate', key: aggregate.key, dir: aggDir });
    assert.equal(await reportAfterRun(runInstances()), complete.text);
  });

  test('a store with nothing of the config says so (exit 2), and a bad config is a ConfigError', async () => {
    const store = scratchDir('report-empty');
    cleanup.push(store);
    await assert.rejects(reportForConfig({ config: CONFIG, store, project: defrostProject }), (e: Error & { exitCode?: number }) => {
      assert.match(e.message, /run `defrost run experiments\/quick.yaml` first/);
      assert.equal(e.exitCode, 2);
      return true;
    });
    await assert.rejects(
      reportForConfig({ config: CONFIG, store, project: defrostProject, sets: ['transfer.depths=[9]'] }),
      (e: Error & { exitCode?: number }) => {
        assert.match(e.message, /transfer\.depths\[0\]/);
        assert.equal(e.exitCode, 2);
        return true;
      },
    );
  });
});
