/**
 * The report opens in a real browser: headless Debian Chromium driven by playwright-core. Every
 * chart must render as an SVG with marks, the page must log no console errors and request
 * nothing from the network (it is self-contained). A full-page screenshot goes to
 * `test/out/report.png` for a human to look at.
 *
 * `make test` installs Chromium first (scripts/ensure-chromium.sh). Set DEFROST_REPORT_HTML to a
 * real report (e.g. the aggregate instance's report.html after `make run`) to check it too.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildReport } from '../stages/report/build.js';
import { makeFixture } from './report-fixture.js';
import { scratchDir } from './stage-rig.js';

const CHROMIUM = process.env.DEFROST_CHROMIUM ?? '/usr/bin/chromium';
const OUT = resolve('test', 'out');
const cleanup: string[] = [];
after(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

interface ChartCheck {
  readonly id: string;
  readonly svgs: number;
  readonly marks: number;
  readonly width: number;
  readonly height: number;
}

/** Opens a report file, checks it, and saves a screenshot. Returns what it saw per chart. */
async function openReport(file: string, screenshot: string): Promise<{ charts: ChartCheck[]; errors: string[]; requests: string[] }> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does) or set DEFROST_CHROMIUM`);
  const profile = scratchDir('chromium');
  cleanup.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const errors: string[] = [];
  const requests: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.$$eval('[data-chart]', (nodes) =>
      nodes.map((node) => {
        const svgs = node.querySelectorAll('svg');
        const svg = svgs[0];
        const box = svg?.getBoundingClientRect();
        // vega draws each mark set in a <g class="mark-TYPE ..."> group; count drawn items in them.
        const marks = svg
          ? svg.querySelectorAll('g[class*="mark-"] > path, g[class*="mark-"] > line, g[class*="mark-"] > rect, g[class*="mark-"] > circle')
              .length
          : 0;
        return { id: node.getAttribute('data-chart') ?? '', svgs: svgs.length, marks, width: box?.width ?? 0, height: box?.height ?? 0 };
      }),
    );
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { charts, errors, requests };
  } finally {
    await context.close();
  }
}

describe('report in headless Chromium', () => {
  test('every chart renders as an SVG with marks, without console errors or network requests', async () => {
    const fx = await makeFixture({ correlations: [1, 0.95, 0.8], ns: [20, 100, 500], depth: 4, seeds: [0, 1, 2] });
    cleanup.push(fx.dir);
    const built = await buildReport({
      runs: fx.runs,
      depth: 4,
      classes: 4,
      taskKind: 'synthetic',
      outDir: join(fx.dir, 'out'),
      subtitle: 'Synthetic test fixture',
      partial: false,
    });
    const { charts, errors, requests } = await openReport(built.htmlPath, join(OUT, 'report.png'));
    assert.deepEqual(
      charts.map((c) => c.id),
      ['optimal-depth', 'accuracy-vs-depth', 'similarity-per-block', 'cka-matrix', 'prediction', 'band'],
    );
    for (const chart of charts) {
      assert.equal(chart.svgs, 1, `${chart.id}: one inline SVG`);
      assert.ok(chart.marks > 10, `${chart.id}: ${chart.marks} drawn marks`);
      assert.ok(chart.width > 100 && chart.height > 100, `${chart.id}: rendered at ${chart.width}x${chart.height}`);
    }
    assert.deepEqual(errors, [], 'console errors');
    assert.deepEqual(requests, [], 'network requests of a self-contained page');
    assert.ok(existsSync(join(OUT, 'report.png')));
  });

  const real = process.env.DEFROST_REPORT_HTML;
  if (real !== undefined) {
    test(`the report at DEFROST_REPORT_HTML (${real}) opens with all charts`, async () => {
      const { charts, errors, requests } = await openReport(resolve(real), join(OUT, 'report-run.png'));
      assert.ok(charts.length >= 4, `${charts.length} charts`);
      for (const chart of charts) assert.ok(chart.svgs === 1 && chart.marks > 0, `${chart.id}: ${chart.marks} marks`);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
    });
  }
});
