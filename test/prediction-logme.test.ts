/**
 * LogME against the independent numpy reference (test/reference/logme_reference.py, run once to
 * write test/fixtures/logme/reference.json): same matrices, values to 1e-4 relative.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { logme } from '../stages/lib/predictors/logme.js';

interface ReferenceCase {
  name: string;
  rows: number;
  cols: number;
  classes: number;
  features: number[];
  labels: number[];
  logme: number;
}

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/ at run time; the fixture stays in the source tree.
const fixture = join(here, '..', '..', 'test', 'fixtures', 'logme', 'reference.json');
const cases = (JSON.parse(readFileSync(fixture, 'utf8')) as { cases: ReferenceCase[] }).cases;

for (const c of cases) {
  test(`LogME matches the numpy reference: ${c.name} (N=${c.rows}, D=${c.cols})`, () => {
    const value = logme({ rows: c.rows, cols: c.cols, data: c.features }, c.labels, c.classes);
    assert.ok(Math.abs(value - c.logme) <= 1e-4 * Math.abs(c.logme), `defrost ${value}, reference ${c.logme}`);
  });
}

test('LogME ranks informative features above noise', () => {
  const rows = 60;
  const labels = Array.from({ length: rows }, (_, i) => i % 3);
  const informative = labels.flatMap((y, i) => [y === 0 ? 1 : 0, y === 1 ? 1 : 0, Math.sin(i)]);
  const noise = labels.flatMap((_, i) => [Math.sin(7 * i), Math.cos(3 * i), Math.sin(i)]);
  const good = logme({ rows, cols: 3, data: informative }, labels, 3);
  const bad = logme({ rows, cols: 3, data: noise }, labels, 3);
  assert.ok(good > bad, `informative ${good} should beat noise ${bad}`);
});
