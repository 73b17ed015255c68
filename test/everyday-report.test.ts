/**
 * Report provenance (issue 17, point 7): a run's copy of report.html carries a footer naming the
 * run, its config and overrides, the resolved config hash, version and commit, backend and counts;
 * the cached artifact itself is left as it was (same key, same bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunListing } from '../pipeline/run-records.js';
import { writeRunReport } from '../stages/report/run-footer.js';

const RUN: RunListing = {
  id: '20261130-061502-3f2a',
  name: 'bigger-n',
  date: '2026-11-30T06:15:02.123Z',
  config: 'experiments/quick.yaml',
  overrides: ['task.target_sizes=[20,100,400,200]'],
  config_hash: '0123456789abcdef',
  version: '0.1.0',
  commit: 'abc123def456',
  backend: 'wasm-blas',
  executor: 'local',
  jobs: 2,
  threads: 1,
  status: 'finished',
  stages: 177,
  executed: 43,
  cached: 134,
  failed: 0,
  skipped: 0,
  executed_by_stage: { transfer: 36 },
  wall_s: 12.5,
  answer: null,
};

test("a run's report has a provenance footer; the artifact is untouched", () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-footer-'));
  try {
    const aggregate = join(dir, 'aggregate', 'k');
    mkdirSync(aggregate, { recursive: true });
    const page = '<html><body><main><h1>answer</h1></main></body></html>';
    writeFileSync(join(aggregate, 'report.html'), page);
    const out = writeRunReport(dir, aggregate, { ...RUN, overrides: [...RUN.overrides, 'x=<b>'] });
    assert.equal(out, join(dir, '.reports', `run-${RUN.id}`, 'report.html'));
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<footer class="provenance"[^>]*>.*<\/footer>\n<\/main>/s);
    for (const text of [
      '20261130-061502-3f2a (bigger-n), 2026-11-30 06:15:02 UTC',
      'experiments/quick.yaml --set task.target_sizes=[20,100,400,200] --set x=&lt;b&gt;',
      '0123456789abcdef',
      '0.1.0, git abc123def456',
      'wasm-blas; local, 2 job(s) x 1 thread(s)',
      '177: executed 43, cached 134, failed 0',
      'defrost runs show bigger-n',
    ])
      assert.ok(html.includes(text), `footer lacks ${text}`);
    assert.equal(readFileSync(join(aggregate, 'report.html'), 'utf8'), page, 'the cached artifact changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
