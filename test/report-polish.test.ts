/**
 * Report polish (issue 17, point 7), checked on the chart specifications the report embeds: the
 * l* scale tells neighbouring depths apart, no panel is empty, every quantitative axis is named,
 * error bars have end ticks and are inside the shared y scale, l* is marked on the curves, and the
 * accuracy chart spans the page.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { buildTables } from '../stages/report/build.js';
import { reportCharts } from '../stages/lib/report/charts.js';
import { makeFixture } from './report-fixture.js';

/** Every object nested anywhere in a JSON-like value. */
function objects(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const v of value) objects(v, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) objects(v, out);
  }
  return out;
}

test('report charts: viridis l* scale, named axes, ticked error bars, l* ringed, no empty panel, full width', async () => {
  const fixture = await makeFixture({ correlations: [1, 0.8], ns: [20, 200], modes: ['defrost', 'reinit'], depth: 3, seeds: [0, 1, 2] });
  try {
    const tables = await buildTables({ runs: fixture.runs, depth: fixture.depth, classes: 4, taskKind: 'synthetic' });
    const charts = reportCharts(tables);
    const byId = new Map(charts.map((c) => [c.id, c]));
    const all = objects(charts.map((c) => c.spec));

    // The l* heatmap: a multi-hue, multi-lightness scale over the depths 0..L.
    const heat = [...byId.values()].find((c) => JSON.stringify(c.spec).includes('"scheme":"viridis"') && /l\*/.test(c.title));
    assert.ok(heat, `an l* chart uses viridis (charts: ${[...byId.keys()].join(', ')})`);

    // Every quantitative x/y encoding has a real title (never the generic "Value").
    for (const o of all) {
      for (const channel of ['x', 'y'] as const) {
        const enc = o[channel] as Record<string, unknown> | undefined;
        if (enc && typeof enc === 'object' && enc.type === 'quantitative') {
          assert.equal(typeof enc.title, 'string', `${channel} on ${String(enc.field)} has a title`);
          assert.notEqual(enc.title, 'Value', `${channel} on ${String(enc.field)} is named after what it shows`);
        }
      }
    }

    // Error bars: drawn with end ticks, from lo to hi on the same (shared) y scale as the means.
    const bars = all.filter((o) => (o.mark as Record<string, unknown> | undefined)?.type === 'errorbar');
    assert.ok(bars.length > 0, 'accuracy chart has error bars');
    for (const bar of bars) assert.ok((bar.mark as Record<string, unknown>).ticks, 'error bars have end ticks');
    const accuracy = charts.find((c) => JSON.stringify(c.spec).includes('"errorbar"'));
    assert.ok(accuracy);
    const rows = objects(accuracy.spec).find((o) => Array.isArray(o.values))?.values as Record<string, unknown>[];
    for (const r of rows.filter((r) => typeof r.lo === 'number' && typeof r.hi === 'number'))
      assert.ok((r.lo as number) <= (r.mean as number) && (r.mean as number) <= (r.hi as number), 'bar spans its mean');

    // l* is marked on the curves (a point layer that singles out the best depth).
    assert.ok(
      objects(accuracy.spec).some((o) => o.filter === 'datum.best === 1'),
      'a layer draws only the l* points (the ring)',
    );
    const cells = new Set(rows.map((r) => `${String(r.panel)}|${String(r.mode)}|${String(r.n)}`));
    const best = rows.filter((r) => r.best === 1);
    assert.ok(best.length > 0 && best.length <= cells.size, 'one l* point per curve at most');

    // Full width: the accuracy panels together are at least 700 px wide.
    const facetWidth = (accuracy.spec as { spec?: { width?: number } }).spec?.width ?? 0;
    assert.ok(facetWidth * 2 >= 700, `accuracy panels ${facetWidth} px each`);

    // No empty panels: every similarity panel filters on a measure that has rows.
    for (const chart of charts) {
      const values = objects(chart.spec).find((o) => Array.isArray(o.values))?.values as Record<string, unknown>[] | undefined;
      for (const o of objects(chart.spec)) {
        const filter = (o.transform as { filter?: { field?: string; equal?: unknown } }[] | undefined)?.[0]?.filter;
        if (filter?.field === 'measure' && values)
          assert.ok(
            values.some((v) => v.measure === filter.equal),
            `${chart.id}: panel ${String(filter.equal)} has data`,
          );
      }
    }
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
});
