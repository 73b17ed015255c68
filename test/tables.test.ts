/**
 * Table declarations (stages/lib/tables/define-table.ts, docs/tables.md): one declaration gives
 * the row type, the writer, the reader, the output the engine checks on publish and the docs.
 * Checked here: rows survive a write and a read unchanged, the written schema is the declared one
 * (and, for the tables the report and the study read, the one written before declarations
 * existed, byte for byte), a file that does not match is refused with what is wrong, the
 * publish-time check catches a stage whose table or summary breaks its declaration, and every
 * stage's tables come from a declaration that docs/tables.md shows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  Field,
  Float64,
  Int32,
  List,
  makeVector,
  Schema,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { z } from 'zod';
import { StageFailure, StoreError } from '../pipeline/errors.js';
import { arrowTypeMatches } from '../pipeline/outputs.js';
import { defineStage, type OutputDecl } from '../pipeline/stage.js';
import { declarationOf, defineTable, type RowOf } from '../stages/lib/tables/define-table.js';
import { OPTIMAL_DEPTH, type OptimalDepthRow } from '../stages/lib/tables/report-tables.js';
import { TRAINING_METRICS, TRAINING_SUMMARY, type TrainingMetricsRow } from '../stages/lib/tables/training-tables.js';
import { defrostProject, STAGES } from '../stages/project.js';
import { renderTableDocs, writtenTables } from '../stages/table-docs.js';
import { CONFIG_DOCS_COMMAND } from '../stages/config-docs.js';
import { runStage, scratchDir } from './stage-rig.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = scratchDir('tables');
  dirs.push(dir);
  return dir;
}

/** Every column type, nullable and not. */
const PROBE = defineTable(
  'probe.arrow',
  {
    depth: { type: 'Int32', doc: 'a depth' },
    score: { type: 'Float64', nullable: true, doc: 'a score' },
    name: { type: 'Utf8', doc: 'a name' },
    kept: { type: 'Bool', nullable: true, doc: 'a flag' },
    depths: { type: 'List<Int32>', doc: 'depths' },
    features: { type: 'FixedSizeList<Float32>', doc: 'a vector' },
  },
  { doc: 'a table of every column type' },
);
type ProbeRow = RowOf<typeof PROBE>;

const ROWS: ProbeRow[] = [
  { depth: 0, score: 0.25, name: 'a', kept: true, depths: [0, 1], features: Float32Array.of(1, 2, 3) },
  { depth: 3, score: null, name: 'b c', kept: null, depths: [], features: Float32Array.of(-1, 0.5, Number.NaN) },
  { depth: -2, score: Number.NaN, name: '', kept: false, depths: [7], features: Float32Array.of(0, 0, 0) },
];

// The row type follows the declaration (these lines fail to compile otherwise).
// @ts-expect-error depth is not nullable
const _nullDepth: ProbeRow = { ...ROWS[0], depth: null };
// @ts-expect-error name is a string
const _numberName: ProbeRow = { ...ROWS[0], name: 1 };
// @ts-expect-error every column is required
const _missing: ProbeRow = { depth: 1, score: 1, name: 'x', kept: true, depths: [] };
const _nullScore: ProbeRow = { ...ROWS[0], score: null };

describe('a declared table', () => {
  test('rows survive a write and a read; the same rows give the same bytes', async () => {
    const file = join(tempDir(), PROBE.file);
    await PROBE.write(file, ROWS);
    const back = await PROBE.read(file);
    assert.deepEqual(back, ROWS);
    assert.deepEqual(Buffer.from(await PROBE.bytes(ROWS)), readFileSync(file));
    await assert.rejects(
      PROBE.read(join(tempDir(), 'no-such.arrow')),
      (error: Error) => error instanceof StoreError && /cannot read/.test(error.message),
    );
    const empty = join(tempDir(), 'none.arrow');
    await PROBE.write(empty, []);
    assert.deepEqual(await PROBE.read(empty), []);
  });

  test('the file has exactly the declared schema: order, types, nullability, no metadata', async () => {
    const table = tableFromIPC(await PROBE.bytes(ROWS));
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}: ${String(f.type)}${f.nullable ? '' : ' not null'}`),
      [
        'depth: Int32 not null',
        'score: Float64',
        'name: Utf8 not null',
        'kept: Bool',
        'depths: List<Int32> not null',
        'features: FixedSizeList[3]<Float32> not null',
      ],
    );
    assert.equal(table.schema.metadata.size, 0);
    const every = defineTable('every.arrow', PROBE.columns, { doc: 'every field nullable', allFieldsNullable: true });
    assert.ok(tableFromIPC(await every.bytes(ROWS)).schema.fields.every((f) => f.nullable));
    assert.deepEqual(PROBE.output(), { kind: 'table', file: 'probe.arrow', optional: false, columns: PROBE.arrowTypes });
    assert.equal(PROBE.output({ file: 'other.arrow', optional: true }).file, 'other.arrow');
  });

  test('a null where the declaration allows none is refused on write', async () => {
    const row = { ...ROWS[0], depth: null } as unknown as ProbeRow;
    await assert.rejects(PROBE.bytes([ROWS[1], row]), /probe\.arrow: column depth allows no null, but row 1 holds one/);
  });

  test('a file that does not match the declaration is refused, naming the column', async () => {
    const dir = tempDir();
    const cases: [string, Parameters<typeof defineTable>[1], Partial<Record<keyof ProbeRow, unknown>>, RegExp][] = [
      [
        'retyped.arrow',
        { ...PROBE.columns, depth: { type: 'Float64', doc: '' } },
        { depth: 0.5 },
        /column depth is Float64, declared Int32/,
      ],
      ['missing.arrow', { depth: PROBE.columns.depth }, {}, /lacks the column score of probe\.arrow/],
      [
        'nulls.arrow',
        { ...PROBE.columns, name: { type: 'Utf8', nullable: true, doc: '' } },
        { name: null },
        /column name allows no null, but row 0 holds one/,
      ],
    ];
    for (const [file, columns, change, message] of cases) {
      const other = defineTable(file, columns, { doc: '' });
      await other.write(join(dir, file), ROWS.map((r) => ({ ...r, ...change })) as unknown as RowOf<typeof other>[]);
      await assert.rejects(PROBE.read(join(dir, file)), (error: Error) => error instanceof StoreError && message.test(error.message));
    }
  });

  test('a row as JSON: NaN and infinities become null, and the schema checks it', () => {
    const json = PROBE.json(ROWS[2]);
    assert.deepEqual(json, { depth: -2, score: null, name: '', kept: false, depths: [7], features: [0, 0, 0] });
    assert.deepEqual(PROBE.jsonSchema.parse(json), json);
    assert.equal(PROBE.jsonSchema.safeParse({ ...json, depth: 0.5 }).success, false);
    assert.equal(PROBE.jsonSchema.safeParse({ ...json, extra: 1 }).success, false);
    const metrics: TrainingMetricsRow = {
      test_accuracy: 0.9,
      test_loss: 0.3,
      validation_accuracy: Number.NaN,
      validation_loss: Number.NaN,
      selection_accuracy: 0.85,
      selection_loss: 0.4,
      train_steps: 10,
      epochs: 2,
      best_epoch: 2,
      learning_rate: 0.001,
      stopped_by: 'budget',
    };
    assert.equal(TRAINING_SUMMARY.parse(TRAINING_METRICS.json(metrics)).validation_accuracy, null);
    const { stopped_by: _, ...partial } = TRAINING_METRICS.json(metrics);
    assert.equal(TRAINING_SUMMARY.safeParse(partial).success, false);
  });

  test('a fixed-size list declared without its width matches any width, nothing else', () => {
    assert.ok(arrowTypeMatches('FixedSizeList<Float32>', 'FixedSizeList[784]<Float32>'));
    assert.ok(!arrowTypeMatches('FixedSizeList<Float32>', 'FixedSizeList[3]<Float64>'));
    assert.ok(!arrowTypeMatches('FixedSizeList<Float32>', 'List<Float32>'));
    assert.ok(arrowTypeMatches('Int32', 'Int32') && !arrowTypeMatches('Int32', 'Int64'));
  });
});

/**
 * What the hand-written writers of metrics.arrow and optimal_depth.arrow produced before the
 * declarations: the study's tables keep these bytes (docs/tables.md).
 */
describe('the tables the study is read from keep their bytes', () => {
  test('metrics.arrow: typed vectors, stopped_by a nullable Utf8', async () => {
    const row: TrainingMetricsRow = {
      test_accuracy: 0.8125,
      test_loss: 0.5,
      validation_accuracy: 0.75,
      validation_loss: Number.NaN,
      selection_accuracy: 0.8,
      selection_loss: 0.55,
      train_steps: 2000,
      epochs: 7,
      best_epoch: 5,
      learning_rate: 0.001,
      stopped_by: 'patience',
    };
    const before = new Table({
      test_accuracy: makeVector(Float64Array.of(row.test_accuracy)),
      test_loss: makeVector(Float64Array.of(row.test_loss)),
      validation_accuracy: makeVector(Float64Array.of(row.validation_accuracy)),
      validation_loss: makeVector(Float64Array.of(row.validation_loss)),
      selection_accuracy: makeVector(Float64Array.of(row.selection_accuracy)),
      selection_loss: makeVector(Float64Array.of(row.selection_loss)),
      train_steps: makeVector(Int32Array.of(row.train_steps)),
      epochs: makeVector(Int32Array.of(row.epochs)),
      best_epoch: makeVector(Int32Array.of(row.best_epoch)),
      learning_rate: makeVector(Float64Array.of(row.learning_rate)),
      stopped_by: vectorFromArray([row.stopped_by], new Utf8()),
    });
    assert.deepEqual(Buffer.from(await TRAINING_METRICS.bytes([row])), Buffer.from(tableToIPC(before, 'file')));
  });

  test('optimal_depth.arrow: every field nullable, plausible_depths a list of Int32', async () => {
    const row = (mode: string, best: number | null): OptimalDepthRow => ({
      correlation: mode === 'reinit' ? null : 0.95,
      n: 20,
      mode,
      optimal_depth: best,
      plausible_depths: best === null ? [] : [best, 4],
      optimal_selection_accuracy: 0.7,
      optimal_accuracy: 0.69,
      optimal_accuracy_se: null,
      full_depth_accuracy: 0.6,
      full_depth_accuracy_se: 0.01,
      scratch_accuracy: 0.5,
      scratch_accuracy_se: 0.02,
      gain_over_full_depth: 0.09,
      gain_vs_full_low: null,
      gain_vs_full_high: null,
      gain_over_zero_depth: -0.01,
      gain_vs_zero_low: -0.05,
      gain_vs_zero_high: 0.03,
      gain_over_scratch: 0.19,
      gain_vs_scratch_low: 0.1,
      gain_vs_scratch_high: 0.3,
      seeds: 5,
      tasks: 1,
      missing_runs: 0,
    });
    const rows = [row('defrost', 2), row('reinit', null)];
    const type = (kind: string): DataType =>
      kind === 'Float64'
        ? new Float64()
        : kind === 'Int32'
          ? new Int32()
          : kind === 'Utf8'
            ? new Utf8()
            : new List(new Field('item', new Int32(), false));
    const names = Object.keys(rows[0]) as (keyof OptimalDepthRow)[];
    const fields = names.map((name) => new Field(name, type(OPTIMAL_DEPTH.arrowTypes[name]), true));
    const vectors = Object.fromEntries(
      names.map((name, i) => [
        name,
        vectorFromArray(
          rows.map((r) => r[name] ?? null),
          fields[i].type,
        ),
      ]),
    );
    const before = tableToIPC(new Table(new Schema(fields), vectors), 'file');
    assert.deepEqual(Buffer.from(await OPTIMAL_DEPTH.bytes(rows)), Buffer.from(before));
  });
});

describe('the publish-time check', () => {
  const stage = (write: (path: string) => Promise<void>, summary: z.ZodType<Record<string, number>> | undefined, returned = {}) =>
    defineStage({
      name: 'probe',
      description: 'writes one table',
      module: import.meta.url,
      params: z.strictObject({}),
      inputs: {},
      outputs: { probe: PROBE.output() },
      summary,
      async run(ctx) {
        await write(ctx.output('probe'));
        return { summary: returned };
      },
    });
  /** Writes the probe rows (with `change`) as a table of other columns. */
  const writeAs = (columns: Parameters<typeof defineTable>[1], change: object) => (path: string) => {
    const decl = defineTable('probe.arrow', columns, { doc: '' });
    return decl.write(path, ROWS.map((r) => ({ ...r, ...change })) as unknown as RowOf<typeof decl>[]);
  };

  test('passes the declared table and summary', async () => {
    const { outcome } = await runStage(
      stage((path) => PROBE.write(path, ROWS), z.strictObject({ n: z.number() }), { n: 3 }),
      {
        params: {},
        inputs: {},
      },
    );
    assert.deepEqual(outcome.summary, { n: 3 });
  });

  for (const [what, columns, change, message] of [
    [
      'a column of another type',
      { ...PROBE.columns, depth: { type: 'Float64', doc: '' } },
      { depth: 0.5 },
      /column depth of probe\.arrow is Float64, declared Int32/,
    ],
    ['a missing column', { depth: PROBE.columns.depth }, {}, /table probe\.arrow lacks its declared column score/],
    [
      'an undeclared column',
      { ...PROBE.columns, extra: { type: 'Int32', doc: '' } },
      { extra: 1 },
      /table probe\.arrow has the undeclared column\(s\) extra/,
    ],
  ] as const)
    test(`catches ${what}`, async () => {
      await assert.rejects(
        runStage(stage(writeAs(columns, change), undefined), { params: {}, inputs: {} }),
        (error: Error) => error instanceof StageFailure && message.test(error.message),
      );
    });

  test('catches a summary that breaks its declared schema', async () => {
    await assert.rejects(
      runStage(
        stage((path) => PROBE.write(path, ROWS), z.strictObject({ n: z.number() }), { m: 3 }),
        { params: {}, inputs: {} },
      ),
      (error: Error) => error instanceof StageFailure && /stage probe returned a summary that breaks its declaration/.test(error.message),
    );
  });
});

describe('every table is declared once', () => {
  test('every table output of every stage is built from a declaration', () => {
    const tables = STAGES.flatMap((s) => Object.entries<OutputDecl>(s.outputs).map(([name, o]) => ({ where: `${s.name}.${name}`, o })));
    for (const { where, o } of tables.filter(({ o }) => o.kind === 'table'))
      assert.ok(
        declarationOf(o) !== undefined,
        `${where} (${o.file}) declares its columns by hand, not with defineTable in stages/lib/tables/`,
      );
    assert.equal(declarationOf({ kind: 'table', file: 'x.arrow', optional: false, columns: { ...PROBE.arrowTypes } }), undefined);
    assert.equal(declarationOf(PROBE.output({ file: 'other.arrow' })), PROBE);
    const files = writtenTables().map(({ table }) => table.file);
    for (const file of ['metrics.arrow', 'results.arrow', 'optimal_depth.arrow', 'similarity.arrow', 'band.arrow', 'cv_results.arrow'])
      assert.ok(files.includes(file), `${file} is documented`);
  });

  test('docs/tables.md is what the declarations render', () => {
    const committed = readFileSync(join(defrostProject.codeRoot, 'docs', 'tables.md'), 'utf8');
    assert.ok(
      committed === renderTableDocs(),
      `docs/tables.md is stale (a table declaration in stages/lib/tables/ changed). Run \`${CONFIG_DOCS_COMMAND}\` and commit docs/tables.md.`,
    );
    assert.match(renderTableDocs(), /## `metrics\.arrow` of `train-source`, `train-scratch`, `transfer`/);
    assert.match(renderTableDocs(), /\| `optimal_depth` \| Int32 \| yes \| l\*/);
  });
});
