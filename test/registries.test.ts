/**
 * Issue 22, part 3: what varies is declared once, in a registry, and every consumer reads it
 * (docs/architecture.md, "Adding a measure, a mode"). For each registry these tests walk its
 * members through its consumers (the config, the command-line help, the checks, the band, the
 * charts, the planner, `aggregate` and the results builder), so a consumer that names members
 * itself instead of reading the registry fails here when a member is added.
 */
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { CliContext } from '../pipeline/cli/context.js';
import { loadConfig } from '../pipeline/config-loader.js';
import type { RunRecord } from '../stages/lib/report/types.js';
import type { SimilarityRow } from '../stages/lib/tables/similarity-table.js';
import { configSchema, correlationsOf, depthsOf } from '../stages/config/schema.js';
import { CV_MODES } from '../stages/data/import-params.js';
import { compareMatrices, allMeasures, MEASURE_NAMES, type Matrix } from '../stages/lib/measures/index.js';
import { reportedValues } from '../stages/lib/measures/registry.js';
import { SCRATCH_MODE, allTransferModes, TRANSFER_MODES } from '../stages/lib/models/transfer-modes/registry.js';
import { checkAgainstBand, sameTaskBand } from '../stages/lib/predictors/band.js';
import { accuracyVsDepthChart, measureLabel, similarityPerBlockChart } from '../stages/lib/report/charts.js';
import { collectRuns, isDepthMode } from '../stages/lib/report/results.js';
import { protocolRows } from '../stages/lib/report/protocol-table.js';
import { planDefrost } from '../stages/plan.js';
import { defrostProject } from '../stages/project.js';
import { registerRecommendCommand } from '../stages/recommend/recommend-command.js';
import { aggregateStage } from '../stages/report/aggregate.js';
import { ANSWER_STAGES, answerPlace } from '../stages/report/answer-stages.js';
import { buildTables } from '../stages/report/build.js';
import { registerCompareCommand } from '../stages/similarity/compare-command.js';
import { QUICK } from './engine-helpers.js';
import { makeFixture, trainingSummary } from './report-fixture.js';

const unique = (names: readonly string[]): boolean => new Set(names).size === names.length;

function helpOf(register: (program: Command) => void, command: string): string {
  const program = new Command();
  register(program);
  const found = program.commands.find((c) => c.name() === command);
  assert.ok(found, command);
  return found.helpInformation();
}

function matrix(rows: number, cols: number, seed: number): Matrix {
  let s = seed;
  const data = Float64Array.from({ length: rows * cols }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  return { rows, cols, data };
}

test('measures: unique names and values; the config, compare and its help take every one', () => {
  assert.ok(unique(MEASURE_NAMES) && unique(reportedValues().map((v) => v.name)));
  const similarity = (measures: unknown) => configSchema.shape.similarity.safeParse({ measures });
  assert.deepEqual(similarity(undefined).data?.measures, MEASURE_NAMES, 'the default is every measure');
  for (const name of MEASURE_NAMES) assert.ok(similarity([name]).success, name);
  assert.equal(similarity(['svcca']).success, false);

  const values = compareMatrices(matrix(40, 5, 1), matrix(40, 4, 2), MEASURE_NAMES, { k: 5, rbfSigma: 1 });
  assert.deepEqual(
    Object.keys(values),
    reportedValues().map((v) => v.name),
    'every reported value, in registry order',
  );
  const help = helpOf(registerCompareCommand, 'compare').replace(/\s+/g, ' ');
  for (const name of MEASURE_NAMES) assert.ok(help.includes(name), `compare --help names ${name}`);
});

test('measures: an option is checked only when a requested measure reads it', () => {
  const [a, b] = [matrix(20, 3, 3), matrix(20, 3, 4)];
  for (const m of allMeasures()) {
    const tooManyNeighbours = () => compareMatrices(a, b, [m.name], { k: 20, rbfSigma: 1 });
    const badSigma = () => compareMatrices(a, b, [m.name], { k: 5, rbfSigma: 0 });
    if (m.reads.includes('k')) assert.throws(tooManyNeighbours, /k = 20/, m.name);
    else assert.doesNotThrow(tooManyNeighbours, m.name);
    if (m.reads.includes('rbfSigma')) assert.throws(badSigma, /rbf sigma = 0/, m.name);
    else assert.doesNotThrow(badSigma, m.name);
  }
});

test('measures: the band takes the values that lean one way, in their direction; charts label and explain each', async () => {
  const row = (measure: string, value: number): SimilarityRow => ({ correlation: 0.5, block_a: 1, block_b: 1, measure, value });
  const pairs = [0.4, 0.5, 0.6].map((v) => reportedValues().map((m) => row(m.name, v)));
  const band = sameTaskBand(pairs);
  const leaning = reportedValues().filter((v) => v.alike !== null);
  assert.deepEqual(band.map((e) => e.measure).sort(), leaning.map((v) => v.name).sort());
  // Far above every band: inside for the values more alike when higher, outside for the others.
  for (const check of checkAgainstBand(
    reportedValues().map((v) => row(v.name, 10)),
    band,
  ))
    assert.equal(check.inside, leaning.find((v) => v.name === check.measure)?.alike === 'higher', check.measure);

  for (const v of reportedValues()) assert.equal(measureLabel(v.name), v.label);
  const fixture = await makeFixture({ correlations: [0.5], ns: [20], depth: 1, seeds: [0, 1] });
  const tables = await buildTables({ runs: fixture.runs, depth: fixture.depth, classes: 4, taskKind: 'synthetic' });
  const chart = similarityPerBlockChart({ ...tables, similarity: reportedValues().map((v) => row(v.name, 0.5)) });
  rmSync(fixture.dir, { recursive: true, force: true });
  assert.ok(chart !== null);
  for (const m of allMeasures()) assert.ok(chart.caption.toLowerCase().includes(m.reading.toLowerCase()), `caption explains ${m.name}`);
});

test('modes: unique, none is scratch; the config, cv-train, recommend --help and the report caption take every one', async () => {
  assert.ok(unique(TRANSFER_MODES) && !new Set<string>(TRANSFER_MODES).has(SCRATCH_MODE));
  assert.deepEqual(CV_MODES, [...TRANSFER_MODES, SCRATCH_MODE]);
  for (const mode of TRANSFER_MODES) assert.ok(configSchema.shape.transfer.safeParse({ modes: [mode] }).success, mode);

  const ctx: CliContext = {
    projectModule: '',
    project: () => Promise.resolve(defrostProject),
    out: () => {},
    err: () => {},
    exitCode: 0,
  };
  const help = helpOf((program) => registerRecommendCommand(program, ctx), 'recommend').replace(/\s+/g, ' ');
  for (const mode of TRANSFER_MODES) assert.ok(help.includes(mode), `recommend --help names ${mode}`);

  const fixture = await makeFixture({ correlations: [1], ns: [20], modes: TRANSFER_MODES, depth: 2, seeds: [0, 1] });
  const tables = await buildTables({ runs: fixture.runs, depth: fixture.depth, classes: 4, taskKind: 'synthetic' });
  const caption = accuracyVsDepthChart(tables).caption;
  rmSync(fixture.dir, { recursive: true, force: true });
  // The prefix modes are rows of the accuracy-vs-depth chart; the protocols with a setting of
  // their own are compared in the protocols section, every one of them.
  for (const mode of allTransferModes().filter((m) => isDepthMode(m.name)))
    assert.ok(caption.includes(`ode ${mode.name}: ${mode.caption}`), caption);
  assert.deepEqual([...new Set(protocolRows(tables.results, fixture.depth).map((r) => r.mode))], [...TRANSFER_MODES]);
});

test('answer stages: the planner plans, aggregate reads and the results builder places exactly the registered stages', () => {
  const { config } = loadConfig(defrostProject, QUICK);
  const specs = planDefrost(config);
  const aggregate = specs.find((s) => s.stage === 'aggregate');
  assert.ok(aggregate);
  const read = new Set(Object.values(aggregate.inputs));
  const answerNames = ANSWER_STAGES.map((a) => a.stage.name);
  for (const name of answerNames) assert.ok(aggregateStage.inputs.runs.stages.includes(name), `aggregate reads ${name}`);
  const answerRuns = specs.filter((s) => (answerNames as readonly string[]).includes(s.stage));
  for (const run of answerRuns) assert.ok(read.has(run.id), `${run.id} is an input of aggregate`);
  // Per cell (correlation, n, seed): the scratch run and one transfer per mode and depth.
  const cells = correlationsOf(config.task).length * config.task.target_sizes.length * config.seeds.length;
  const count = (stage: string): number => answerRuns.filter((s) => s.stage === stage).length;
  assert.equal(count('train-scratch'), cells);
  assert.equal(count('transfer'), cells * config.transfer.modes.length * depthsOf(config).length);

  const run = (stage: string, coords: RunRecord['coords']): RunRecord => ({
    id: `${stage}-${JSON.stringify(coords)}`,
    stage,
    coords: { correlation: 0.5, n: 20, seed: 0, ...coords },
    published: true,
    summary: trainingSummary(0.75),
  });
  const runs = [run('train-scratch', {}), run('transfer', { mode: 'reinit', depth: 1 }), run('predict', {}), run('cv-train', {})];
  const places = collectRuns(runs, answerPlace).results.map((r) => [r.mode, r.depth]);
  assert.deepEqual(places, [
    [SCRATCH_MODE, null],
    ['reinit', 1],
  ]);
  // The builder itself names no stage: whatever `placeOf` places is a row.
  const toy = collectRuns([run('toy', { depth: 2 })], (r) => (r.stage === 'toy' ? { mode: 'toy-mode', depth: 2, setting: null } : null));
  assert.deepEqual(
    toy.results.map((r) => [r.mode, r.depth]),
    [['toy-mode', 2]],
  );
});
