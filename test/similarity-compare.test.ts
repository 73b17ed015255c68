/**
 * `defrost compare`: the matrix formats it reads, its JSON output, and bad input turned into
 * exit code 2 with a clear message and no stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  vectorFromArray,
  Utf8,
} from 'apache-arrow';
import { UsageError } from '../pipeline/errors.js';
import { compareFiles } from '../stages/similarity/compare-command.js';
import { readMatrix } from '../stages/lib/formats/matrix-io.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { Rng } from '../stages/lib/random.js';
import type { Matrix } from '../stages/lib/measures/index.js';
import { gaussian } from './similarity-fixtures.js';
import { scratchDir } from './stage-rig.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = here.endsWith(join('dist', 'test')) ? join(here, '..', '..') : join(here, '..');
let dir = '';
let a: Matrix;
let b: Matrix;

before(async () => {
  dir = scratchDir('compare');
  const rng = new Rng(21, 'compare-cli');
  a = gaussian(rng, 40, 6);
  b = gaussian(rng, 40, 3);
  writeFileSync(join(dir, 'a.npy'), encodeNpyArray([a.rows, a.cols], a.data));
  writeFileSync(join(dir, 'b32.npy'), encodeNpyArray([b.rows, b.cols], Float32Array.from(b.data)));
  // The same B as CSV with a header, and as Arrow: a FixedSizeList column, and plain numeric columns.
  const b32 = Float32Array.from(b.data);
  const rowsText = Array.from({ length: 40 }, (_, i) => Array.from(b32.subarray(i * 3, i * 3 + 3)).join(','));
  writeFileSync(join(dir, 'b.csv'), ['u,v,w', ...rowsText].join('\n') + '\n');
  const values = makeData({ type: new Float32(), length: 120, nullCount: 0, data: b32 });
  const list = makeVector(
    makeData({ type: new FixedSizeList(3, new Field('item', new Float32(), false)), length: 40, nullCount: 0, child: values }),
  );
  writeFileSync(
    join(dir, 'b-list.arrow'),
    tableToIPC(
      new Table({
        id: vectorFromArray(
          Array.from({ length: 40 }, (_, i) => `r${i}`),
          new Utf8(),
        ),
        features: list,
      }),
      'file',
    ),
  );
  const column = (c: number) =>
    vectorFromArray(
      Array.from({ length: 40 }, (_, i) => b32[i * 3 + c]),
      new Float64(),
    );
  writeFileSync(
    join(dir, 'b-cols.arrow'),
    tableToIPC(new Table({ x: column(0), label: vectorFromArray(new Array(40).fill(1), new Int32()), y: column(1), z: column(2) }), 'file'),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('reads .npy (float32, float64), .csv with a header and .arrow (list or numeric columns) alike', async () => {
  const reference = await readMatrix(join(dir, 'b32.npy'));
  assert.equal(reference.rows, 40);
  assert.equal(reference.cols, 3);
  for (const file of ['b.csv', 'b-list.arrow']) {
    const m = await readMatrix(join(dir, file));
    assert.deepEqual([m.rows, m.cols], [40, 3], file);
    assert.deepEqual(Array.from(m.data), Array.from(reference.data), file);
  }
  // Numeric columns: x, label, y, z (the Int32 label is numeric too); the Utf8 id column is skipped.
  const cols = await readMatrix(join(dir, 'b-cols.arrow'));
  assert.equal(cols.cols, 4);
  assert.deepEqual(Array.from(cols.data.subarray(0, 4)), [reference.data[0], 1, reference.data[1], reference.data[2]]);
  const first = await compareFiles(join(dir, 'a.npy'), join(dir, 'b32.npy'));
  const second = await compareFiles(join(dir, 'a.npy'), join(dir, 'b-list.arrow'));
  assert.deepEqual(first, second);
});

test('rejects bad input with a UsageError naming the problem', async () => {
  const file = (name: string, content: string | Buffer): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const A = join(dir, 'a.npy');
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['row counts', () => compareFiles(A, file('short.csv', '1,2\n3,4\n')), /row counts differ: .* 40 rows, .* 2/],
    [
      'NaN',
      () => compareFiles(A, file('nan.csv', Array.from({ length: 40 }, (_, i) => (i === 7 ? 'NaN,1' : `${i},1`)).join('\n'))),
      /non-finite value \(NaN\) at row 7, column 0/,
    ],
    ['empty', () => compareFiles(A, file('empty.csv', 'a,b\n')), /empty/],
    ['k >= N', () => compareFiles(A, A, { k: 40 }), /--k: got 40; allowed: an integer from 1 to N - 1 = 39/],
    ['unknown measure', () => compareFiles(A, A, { measures: 'cka,svcca' }), /--measures: got "svcca"; allowed: cka, /],
    ['missing file', () => compareFiles(A, join(dir, 'missing.npy')), /missing\.npy: no such file or directory/],
    ['not npy', () => compareFiles(A, file('junk.npy', 'hello')), /not a .npy file/],
    ['not arrow', () => compareFiles(A, file('junk.arrow', 'hello')), /not a readable Arrow IPC file/],
    ['text in csv', () => compareFiles(A, file('text.csv', '1,2\n3,x\n')), /line 2, column 2: "x" is not a number/],
    ['extension', () => compareFiles(A, file('m.txt', '1')), /unsupported file type ".txt"/],
    [
      'fortran',
      () =>
        compareFiles(
          A,
          file(
            'f.npy',
            Buffer.from(
              encodeNpyArray([a.rows, a.cols], a.data).toString('latin1').replace("'fortran_order': False, ", "'fortran_order': True,  "),
              'latin1',
            ),
          ),
        ),
      /Fortran/,
    ],
    [
      'dtype',
      () =>
        compareFiles(
          A,
          file('i.npy', Buffer.from(encodeNpyArray([a.rows, a.cols], a.data).toString('latin1').replace("'<f8'", "'<c16'"), 'latin1')),
        ),
      /unsupported dtype "<c16"/,
    ],
  ];
  for (const [name, run, message] of cases) {
    await assert.rejects(run, (error: unknown) => {
      assert.ok(error instanceof UsageError, `${name}: ${String(error)}`);
      assert.match(error.message, message, name);
      return true;
    });
  }
});

test('the command: --json prints exactly the documented object; bad input exits 2 without a stack trace', () => {
  const cli = join(repoRoot, 'bin', 'defrost.js');
  const ok = spawnSync(
    process.execPath,
    [cli, 'compare', join(dir, 'a.npy'), join(dir, 'b.csv'), '--json', '--k', '5', '--measures', 'information_imbalance,cka'],
    { encoding: 'utf8' },
  );
  assert.equal(ok.status, 0, ok.stderr);
  const out = JSON.parse(ok.stdout.trim().split('\n').pop() as string) as { n: number; measures: Record<string, number> };
  assert.deepEqual(Object.keys(out), ['n', 'measures']);
  assert.equal(out.n, 40);
  assert.deepEqual(Object.keys(out.measures), ['cka', 'information_imbalance_a_to_b', 'information_imbalance_b_to_a']);
  assert.ok(Object.values(out.measures).every((v) => typeof v === 'number' && v > 0 && v < 1.5));

  const bad = spawnSync(process.execPath, [cli, 'compare', join(dir, 'a.npy'), join(dir, 'a.npy'), '--k', '40'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--k: got 40/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
