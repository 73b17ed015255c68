/**
 * The report section "Which protocol, and at which setting?" (stages/training/protocols-section-job.ts)
 * on hand-made runs: protocols that beat every prefix depth by a known margin are found, per cell,
 * as the best pair with a significant gain over the best prefix depth l*; the table is written
 * as `protocols.arrow`, shown in the page and ends the terminal answer; a study of prefix modes
 * alone has no such section.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROTOCOL_CHOICES } from '../stages/lib/tables/protocol-tables.js';
import { PROTOCOLS } from '../stages/lib/models/transfer-modes/registry.js';
import { protocolAnswerText } from '../stages/lib/report/protocol-report.js';
import { cellsBeatingBestPrefix, protocolRows } from '../stages/lib/report/protocol-table.js';
import { buildTables } from '../stages/report/build.js';
import { buildProtocolsSection } from '../stages/training/protocols-section-job.js';
import { makeFixture, PROTOCOL_EDGE } from './report-fixture.js';

const MODES = ['defrost', ...PROTOCOLS];

test('protocols that beat every depth by a margin: the best pair per cell, its gain over l* significant, the count of such cells', async () => {
  const fixture = await makeFixture({ correlations: [1, 0.8], ns: [20, 100], modes: MODES, depth: 2, seeds: [0, 1, 2, 3] });
  try {
    const tables = await buildTables({ runs: fixture.runs, depth: fixture.depth, classes: 4, taskKind: 'synthetic' });
    const rows = protocolRows(tables.results, fixture.depth);
    // One row per cell and mode, in the report's cell order (correlation high to low, n up).
    assert.equal(rows.length, 4 * MODES.length);
    assert.deepEqual(
      rows.filter((r) => r.mode === 'defrost').map((r) => [r.correlation, r.n]),
      [
        [1, 20],
        [1, 100],
        [0.8, 20],
        [0.8, 100],
      ],
    );
    for (const r of rows.filter((row) => row.mode === 'defrost')) {
      // defrost's best is l* itself: its gain over l* is exactly 0; the plausible set is the
      // cell's, across protocols, and no depth is near the protocols' margin.
      assert.deepEqual([r.gain_vs_best_prefix_low, r.gain_vs_best_prefix, r.gain_vs_best_prefix_high], [0, 0, 0]);
      assert.equal(r.plausible_settings, '');
    }
    // The fixture's protocols sit PROTOCOL_EDGE above the prefix curve, far beyond its noise.
    for (const r of rows.filter((row) => row.mode !== 'defrost')) {
      assert.ok((r.gain_vs_best_prefix ?? 0) > PROTOCOL_EDGE / 2, `${r.mode}: ${r.gain_vs_best_prefix}`);
      assert.ok((r.gain_vs_best_prefix_low ?? 0) > 0);
    }
    for (const cell of [0, 1, 2, 3]) {
      const own = rows.slice(cell * MODES.length, (cell + 1) * MODES.length);
      assert.equal(own.filter((r) => r.best === 1).length, 1, 'one best pair per cell');
      assert.notEqual(own.find((r) => r.best === 1)?.mode, 'defrost');
    }
    assert.equal(cellsBeatingBestPrefix(rows).length, 4);
    const answer = protocolAnswerText(rows);
    assert.match(answer, /^Which protocol, and at which setting\?/);
    assert.match(answer, /beats the best prefix depth l\* on test beyond its 95% interval in 4 of 4 cells:/);
    for (const line of answer.split('\n')) assert.ok(line.length <= 100, line);

    const built = await buildProtocolsSection({ runs: fixture.runs, tables, outDir: fixture.dir });
    assert.ok(built);
    assert.equal(built.answer, answer, 'the terminal answer ends with the same text');
    assert.match(built.html, /<section id="protocols">/);
    assert.match(built.html, /data-chart="protocols"><svg/);
    for (const mode of MODES) assert.ok(built.html.includes(`>${mode} `) || built.html.includes(`<b>${mode} `), mode);
    const written = await PROTOCOL_CHOICES.read(join(fixture.dir, 'protocols.arrow'));
    assert.equal(written.length, rows.length);
    assert.deepEqual(Object.keys(written[0]), Object.keys(rows[0]));
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});

test('a study of prefix modes alone has no protocols section and writes no protocols.arrow', async () => {
  const fixture = await makeFixture({ correlations: [1], ns: [20], modes: ['defrost', 'reinit'], depth: 2, seeds: [0, 1] });
  try {
    const tables = await buildTables({ runs: fixture.runs, depth: fixture.depth, classes: 4, taskKind: 'synthetic' });
    assert.deepEqual(protocolRows(tables.results, fixture.depth), []);
    assert.equal(await buildProtocolsSection({ runs: fixture.runs, tables, outDir: fixture.dir }), null);
    assert.ok(!existsSync(join(fixture.dir, 'protocols.arrow')));
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});
