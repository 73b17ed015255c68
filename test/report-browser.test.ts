/**
 * The report opens in a real browser: headless Debian Chromium driven by playwright-core, at a
 * laptop's 1024 px and a desktop's 1400 px, for two reports — the default study's shape
 * (experiments/quick.yaml's correlations, sizes, blocks, seeds and modes, on the hand-made
 * fixture) and an image task with a pre-trained `source_model`. On each, measured on the rendered
 * page (issue 23):
 * - every chart renders as an SVG with marks, not scaled down (its text stays its size), with no
 *   console error and no network request (the page is self-contained);
 * - the l* heatmap's legend and caption agree with its colour scale, read from the chart spec:
 *   the darker end of the scale is the end the caption and the legend call darker, and every cell
 *   has its legend's colour;
 * - no text inside a heatmap or CKA cell overflows the cell (text boxes against the cell rects);
 * - every depth 0..L has a tick on the depth axes, every block 1..L on the block axes;
 * - no title is a raw identifier (`information_imbalance_a_to_b`, `value`), and the image /
 *   `source_model` report uses the study's own words;
 * - every section of the page is linked from the top.
 * Screenshots go to test/out/report-{1024,1400}.png and report-image-{1024,1400}.png.
 *
 * `make test` installs Chromium first (scripts/ensure-chromium.sh). Set DEFROST_REPORT_HTML to a
 * real report (e.g. the aggregate instance's report.html after `make run`) to check it too.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { scheme } from 'vega';
import { parse } from 'yaml';
import { buildReport, type BuiltReport } from '../stages/report/build.js';
import { optimalDepthHeatmap } from '../stages/lib/report/charts.js';
import { makeFixture } from './report-fixture.js';
import { scratchDir } from './stage-rig.js';

const CHROMIUM = process.env.DEFROST_CHROMIUM ?? '/usr/bin/chromium';
const OUT = resolve('test', 'out');
const WIDTHS = [1024, 1400] as const;
const cleanup: string[] = [];
let context: BrowserContext | undefined;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does) or set DEFROST_CHROMIUM`);
  const profile = scratchDir('chromium');
  cleanup.push(profile);
  context = await chromium.launchPersistentContext(profile, {
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
});

after(async () => {
  await context?.close();
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

interface ChartCheck {
  readonly id: string;
  readonly svgs: number;
  readonly marks: number;
  readonly width: number;
  readonly height: number;
  /** Rendered width over the SVG's own width: below 1 the page shrank the chart and its text. */
  readonly scale: number;
}

interface CellText {
  readonly chart: string;
  readonly text: string;
  /** How far the text box reaches past its cell's rect, in px (0 when inside); null without a cell. */
  readonly overflow: number | null;
  readonly height: number;
}

interface PageCheck {
  readonly charts: ChartCheck[];
  readonly errors: string[];
  readonly requests: string[];
  /** The l* legend: label and computed fill of each entry, and the legend's title. */
  readonly legend: { label: string; fill: string }[];
  readonly legendTitle: string;
  readonly heatmapCaption: string;
  /** Each heatmap cell: its l* (from the `l* = D` text) and its rect's fill. */
  readonly cells: { depth: number; fill: string }[];
  readonly cellTexts: CellText[];
  readonly axes: { chart: string; title: string; labels: string[] }[];
  /** Every heading, axis, legend and panel title on the page. */
  readonly titles: string[];
  readonly sections: string[];
  readonly links: string[];
  readonly text: string;
}

/**
 * What the test measures inside the page, as plain JavaScript run by the browser (the project's
 * TypeScript knows no DOM): charts and their scale, the l* legend and cells, every cell text's
 * box against its cell's rect, axis titles and tick labels, titles, sections and top links.
 */
const MEASURE = String.raw`(() => {
      const text = (el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim();
      const box = (el) => el.getBoundingClientRect();
      const charts = [...document.querySelectorAll('[data-chart]')].map((node) => {
        const svgs = node.querySelectorAll('svg');
        const svg = svgs[0];
        const rendered = svg?.getBoundingClientRect();
        const own = Number(svg?.getAttribute('width') ?? 0);
        // vega draws each mark set in a <g class="mark-TYPE ..."> group; count drawn items in them.
        const marks = svg
          ? svg.querySelectorAll('g[class*="mark-"] > path, g[class*="mark-"] > line, g[class*="mark-"] > rect, g[class*="mark-"] > circle')
              .length
          : 0;
        return {
          id: node.getAttribute('data-chart') ?? '',
          svgs: svgs.length,
          marks,
          width: rendered?.width ?? 0,
          height: rendered?.height ?? 0,
          scale: own > 0 ? (rendered?.width ?? 0) / own : 0,
        };
      });
      /** The cell rect (a vega rect mark, drawn as a path) under a point of a chart. */
      const cellAt = (chart, x, y) =>
        [...chart.querySelectorAll('g.mark-rect.role-mark > path')].find((r) => {
          const b = box(r);
          return b.left <= x && x <= b.right && b.top <= y && y <= b.bottom;
        });
      const cellTexts = [];
      for (const id of ['optimal-depth', 'cka-matrix']) {
        const chart = document.querySelector('[data-chart="' + id + '"]');
        if (chart === null) continue;
        for (const t of chart.querySelectorAll('g.mark-text.role-mark > text')) {
          if (text(t) === '') continue;
          const b = box(t);
          const cell = cellAt(chart, (b.left + b.right) / 2, (b.top + b.bottom) / 2);
          const c = cell === undefined ? null : box(cell);
          const overflow = c === null ? null : Math.max(0, c.left - b.left, b.right - c.right, c.top - b.top, b.bottom - c.bottom);
          cellTexts.push({ chart: id, text: text(t), overflow, height: b.height });
        }
      }
      const heat = document.querySelector('[data-chart="optimal-depth"]');
      const legendGroup = heat?.querySelector('g.role-legend');
      const symbols = [...(legendGroup?.querySelectorAll('g.role-legend-symbol path') ?? [])];
      const labels = [...(legendGroup?.querySelectorAll('g.role-legend-label text') ?? [])];
      const legend = labels.map((l, i) => ({ label: text(l), fill: symbols[i] ? getComputedStyle(symbols[i]).fill : '' }));
      const cells = [];
      for (const t of heat?.querySelectorAll('g.mark-text.role-mark > text') ?? []) {
        const m = /^l\* = (\d+)/.exec(text(t));
        if (!m || heat === null) continue;
        const b = box(t);
        const cell = cellAt(heat, (b.left + b.right) / 2, (b.top + b.bottom) / 2);
        cells.push({ depth: Number(m[1]), fill: cell ? getComputedStyle(cell).fill : '' });
      }
      const axes = [...document.querySelectorAll('[data-chart] g.role-axis')].map((axis) => ({
        chart: axis.closest('[data-chart]')?.getAttribute('data-chart') ?? '',
        title: [...axis.querySelectorAll('g.role-axis-title text')].map(text).join(' '),
        labels: [...axis.querySelectorAll('g.role-axis-label text')].map(text),
      }));
      const titles = [
        ...document.querySelectorAll(
          'h1, h2, h3, nav a, th, [data-chart] g.role-axis-title text, [data-chart] g.role-title-text text, [data-chart] g.role-legend-title text',
        ),
      ].map(text);
      return {
        charts,
        legend,
        legendTitle: [...(legendGroup?.querySelectorAll('g.role-legend-title text') ?? [])].map(text).join(' '),
        heatmapCaption: text(document.querySelector('#optimal-depth p.caption') ?? document.body),
        cells,
        cellTexts,
        axes,
        titles,
        sections: [...document.querySelectorAll('main section[id]')].map((s) => s.id),
        links: [...document.querySelectorAll('nav a')].map((a) => a.getAttribute('href') ?? ''),
        text: document.body.innerText,
      };
    })()`;

/** Opens a report at a window width, measures it, and saves a full-page screenshot. */
async function openReport(file: string, width: number, screenshot: string): Promise<PageCheck> {
  assert.ok(context, 'browser started');
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  try {
    await page.setViewportSize({ width, height: 900 });
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
    const measured = (await page.evaluate(MEASURE)) as Omit<PageCheck, 'errors' | 'requests'>;
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { ...measured, errors, requests };
  } finally {
    await page.close();
  }
}

/** Relative luminance of a CSS `rgb(r, g, b)` colour (0 black .. 1 white). */
function luminance(color: string): number {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(color);
  assert.ok(m, `a colour: ${color}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Every object nested anywhere in a JSON-like value. */
function objects(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const v of value) objects(v, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) objects(v, out);
  }
  return out;
}

/**
 * Which end of the l* colour scale is darker, from the chart spec: the scale's scheme sampled as
 * vega samples it for an ordinal domain of depths 0..L (reversed when the spec says so).
 */
function darkerEndOfSpec(built: BuiltReport): 'more' | 'fewer' {
  const spec = optimalDepthHeatmap(built.tables).spec;
  const scale = objects(spec).find((o) => typeof o.scheme === 'string' && Array.isArray(o.domain));
  assert.ok(scale, 'the l* colour encoding has a scheme and a domain of depths');
  const interpolate = scheme(String(scale.scheme)) as (t: number) => string;
  assert.equal(typeof interpolate, 'function', `vega knows scheme ${String(scale.scheme)}`);
  const at = (t: number): string => interpolate(scale.reverse === true ? 1 - t : t);
  return luminance(at(1)) < luminance(at(0)) ? 'more' : 'fewer';
}

function checkPage(name: string, page: PageCheck, built: BuiltReport, charts: readonly string[]): void {
  const L = built.tables.depth;
  // Every chart renders, at its own size.
  assert.deepEqual(
    page.charts.map((c) => c.id),
    charts,
    `${name}: charts`,
  );
  for (const chart of page.charts) {
    assert.equal(chart.svgs, 1, `${name} ${chart.id}: one inline SVG`);
    assert.ok(chart.marks > 5, `${name} ${chart.id}: ${chart.marks} drawn marks`);
    assert.ok(chart.width > 100 && chart.height > 100, `${name} ${chart.id}: rendered at ${chart.width}x${chart.height}`);
    assert.ok(chart.scale > 0.97, `${name} ${chart.id}: shrunk to ${chart.scale.toFixed(2)} of its size, and its text with it`);
  }
  assert.deepEqual(page.errors, [], `${name}: console errors`);
  assert.deepEqual(page.requests, [], `${name}: network requests of a self-contained page`);

  // The heatmap's legend and caption agree with its colour scale.
  const darker = darkerEndOfSpec(built);
  assert.deepEqual(
    page.legend.map((e) => e.label),
    Array.from({ length: L + 1 }, (_, d) => String(d)),
    `${name}: one legend entry per depth`,
  );
  const lum = page.legend.map((e) => luminance(e.fill));
  for (let d = 1; d <= L; d++)
    assert.ok(darker === 'more' ? lum[d] < lum[d - 1] : lum[d] > lum[d - 1], `${name}: legend colours darken towards ${darker} frozen`);
  assert.match(page.heatmapCaption, new RegExp(`Darker means ${darker} blocks frozen`), `${name}: caption`);
  assert.match(page.legendTitle, new RegExp(`darker = ${darker} frozen`), `${name}: legend title`);
  assert.equal(page.cells.length, built.tables.optimal.filter((r) => r.optimal_depth !== null).length, `${name}: a cell per answer`);
  for (const cell of page.cells)
    assert.equal(cell.fill, page.legend[cell.depth].fill, `${name}: cell l* = ${cell.depth} has its legend colour`);

  // No text overflows its cell, and none is shrunk below legibility.
  assert.ok(page.cellTexts.length > 0, `${name}: cell texts measured`);
  for (const t of page.cellTexts) {
    assert.notEqual(t.overflow, null, `${name} ${t.chart}: "${t.text}" lies in a cell`);
    assert.ok((t.overflow ?? 0) <= 0.5, `${name} ${t.chart}: "${t.text}" overflows its cell by ${t.overflow} px`);
    assert.ok(t.height >= 11, `${name} ${t.chart}: "${t.text}" is ${t.height.toFixed(1)} px tall`);
  }

  // Every depth has a tick on the depth axes, every block on the block axes.
  const depths = Array.from({ length: L + 1 }, (_, d) => String(d));
  const depthAxes = page.axes.filter((a) => /^Frozen blocks l|^depth l/.test(a.title));
  assert.ok(
    depthAxes.some((a) => a.chart === 'accuracy-vs-depth'),
    `${name}: accuracy has a depth axis`,
  );
  assert.ok(
    depthAxes.some((a) => a.chart === 'prediction'),
    `${name}: prediction has a depth axis`,
  );
  for (const a of depthAxes) assert.deepEqual(a.labels, depths, `${name} ${a.chart}: depth ticks on "${a.title}"`);
  const blockAxes = page.axes.filter((a) => /^Hidden block/.test(a.title));
  assert.ok(
    blockAxes.some((a) => a.chart === 'band'),
    `${name}: band chart has block axes`,
  );
  for (const a of blockAxes) assert.deepEqual(a.labels, depths.slice(1), `${name} ${a.chart}: block ticks on "${a.title}"`);

  // No title is a raw identifier.
  assert.ok(page.titles.length > 20, `${name}: titles found`);
  for (const title of page.titles) {
    assert.doesNotMatch(title, /\b[a-z]+(?:_[a-z0-9]+)+\b/, `${name}: "${title}" is an identifier, not a title`);
    assert.doesNotMatch(title, /^value$/i, `${name}: a title says only "${title}"`);
  }

  // Every section is linked from the top, and every link leads somewhere.
  for (const id of ['answer', ...charts.filter((c) => c !== 'band'), 'table'])
    assert.ok(page.sections.includes(id), `${name}: a section ${id} (sections: ${page.sections.join(', ')})`);
  assert.deepEqual(
    page.links.map((l) => l.replace(/^#/, '')),
    page.sections,
    `${name}: the top links name every section, in page order`,
  );
}

/** The default study's shape, from experiments/quick.yaml. */
interface QuickShape {
  readonly task: { correlations: number[]; target_sizes: number[]; classes: number };
  readonly model: { hidden: number[] };
  readonly seeds: number[];
  readonly transfer: { modes: string[] };
}

describe('report in headless Chromium at 1024 and 1400 px', () => {
  const ALL_CHARTS = ['optimal-depth', 'accuracy-vs-depth', 'similarity-per-block', 'cka-matrix', 'prediction', 'band'];

  test("the default study's report (quick.yaml's shape): legend, cells, ticks, titles and links", async () => {
    const quick = parse(readFileSync('experiments/quick.yaml', 'utf8')) as QuickShape;
    const L = quick.model.hidden.length;
    const fx = await makeFixture({
      correlations: quick.task.correlations,
      ns: quick.task.target_sizes,
      depth: L,
      seeds: quick.seeds,
      modes: quick.transfer.modes,
    });
    cleanup.push(fx.dir);
    const built = await buildReport({
      runs: fx.runs,
      depth: L,
      classes: quick.task.classes,
      taskKind: 'synthetic',
      outDir: join(fx.dir, 'out'),
      subtitle: 'Synthetic test fixture (experiments/quick.yaml)',
      partial: false,
    });
    for (const width of WIDTHS) {
      const page = await openReport(built.htmlPath, width, join(OUT, `report-${width}.png`));
      checkPage(`default at ${width}px`, page, built, ALL_CHARTS);
      assert.doesNotMatch(page.text, /source_model/, 'a study that trains its source network does not mention source_model');
      assert.match(page.text, /trained by this study on the source task/);
    }
  });

  test('an image task with a pre-trained source_model: its own words, and the same checks', async () => {
    const fx = await makeFixture({ correlations: [null], ns: [50, 200, 1000], depth: 4, seeds: [0, 1, 2], modes: ['defrost'] });
    cleanup.push(fx.dir);
    const built = await buildReport({
      runs: fx.runs,
      depth: 4,
      classes: 5,
      taskKind: 'image',
      sourceModel: 'resnet8.onnx',
      outDir: join(fx.dir, 'out'),
      subtitle: 'Image test fixture',
      partial: false,
    });
    for (const width of WIDTHS) {
      const page = await openReport(built.htmlPath, width, join(OUT, `report-image-${width}.png`));
      checkPage(`image at ${width}px`, page, built, ALL_CHARTS);
      assert.match(page.text, /The pre-trained network resnet8\.onnx \(source_model\), cut into 4 blocks/);
      for (const wrong of [/Source-target correlation/i, /image task/, /trained on the source task/, /or a pre-trained source_model/])
        assert.doesNotMatch(page.text, wrong, `the image report does not say ${wrong}`);
    }
  });

  const real = process.env.DEFROST_REPORT_HTML;
  if (real !== undefined) {
    test(`the report at DEFROST_REPORT_HTML (${real}) opens with all charts`, async () => {
      const page = await openReport(resolve(real), 1400, join(OUT, 'report-run.png'));
      assert.ok(page.charts.length >= 4, `${page.charts.length} charts`);
      for (const chart of page.charts) assert.ok(chart.svgs === 1 && chart.marks > 0, `${chart.id}: ${chart.marks} marks`);
      assert.deepEqual(page.errors, []);
      assert.deepEqual(page.requests, []);
    });
  }
});
