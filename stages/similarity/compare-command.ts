/**
 * `defrost compare A B [--measures m1,m2] [--k K] [--rbf-sigma S] [--json]` (docs/similarity.md#defrost-compare):
 * the similarity measures of docs/science.md#comparing-representations between two representation matrices (rows = the same
 * samples) read from `.arrow`, `.npy` or `.csv` files.
 *
 * The command logic is `compareFiles` (used by tests); the command only parses and prints. This
 * module and what it imports statically are light: Apache Arrow is loaded only to read `.arrow`.
 */
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';
import { unknownName } from '../../pipeline/nearest-name.js';
import { readMatrix } from '../lib/formats/matrix-io.js';
import { BLOCKED_ABOVE, blockedLimit, TILED_MEASURES } from '../lib/measures/blocked.js';
import {
  checkComparable,
  compareMatricesParallel,
  defaultThreads,
  isMeasureName,
  MEASURE_NAMES,
  allMeasures,
  readsOption,
  type MeasureName,
  type MeasureOptions,
  type MeasureValues,
} from '../lib/measures/index.js';

/** Options as the command line gives them (strings), all optional. */
export interface CompareOptions {
  readonly measures?: string;
  readonly k?: string | number;
  readonly rbfSigma?: string | number;
}

/** What `compare --json` prints. */
export interface CompareResult {
  readonly n: number;
  readonly measures: MeasureValues;
}

export const DEFAULT_K = 10;
export const DEFAULT_RBF_SIGMA = 1;

/** Parses `--measures` (comma-separated measure names; default: all of them). */
export function parseMeasures(text: string | undefined): MeasureName[] {
  if (text === undefined) return [...MEASURE_NAMES];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`--measures: got "${text}"; allowed: a comma-separated list of ${MEASURE_NAMES.join(', ')}`);
  for (const name of names) {
    if (!isMeasureName(name)) throw unknownName('--measures', name, MEASURE_NAMES);
  }
  return names as MeasureName[];
}

function parseK(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_K;
  const k = Number(value);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k: got "${value}"; allowed: an integer >= 1 and less than the number of rows`);
  return k;
}

function parseSigma(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_RBF_SIGMA;
  const s = Number(value);
  if (!(Number.isFinite(s) && s > 0))
    throw new UsageError(`--rbf-sigma: got "${value}"; allowed: a positive number (multiple of the median pairwise distance)`);
  return s;
}

/**
 * The measures to compute on `rows` rows. Above `BLOCKED_ABOVE` only the tiled path's measures
 * can run: asked for every measure (no `--measures`), the others are left out, saying so; named
 * explicitly, they are refused (`blockedLimit`).
 */
function measuresFor(rows: number, requested: MeasureName[], byDefault: boolean): MeasureName[] {
  const untiled = requested.filter((m) => !TILED_MEASURES.includes(m));
  if (rows <= BLOCKED_ABOVE || !byDefault || untiled.length === 0) return requested;
  process.stderr.write(`compare: ${untiled.join(', ')} left out: no path for more than ${BLOCKED_ABOVE} rows (see docs/similarity.md)\n`);
  return requested.filter((m) => TILED_MEASURES.includes(m));
}

/** Reads both files, validates everything, and computes the requested measures. */
export async function compareFiles(pathA: string, pathB: string, options: CompareOptions = {}): Promise<CompareResult> {
  const requested = parseMeasures(options.measures);
  const k = parseK(options.k);
  const rbfSigma = parseSigma(options.rbfSigma);
  const [a, b] = await Promise.all([readMatrix(pathA), readMatrix(pathB)]);
  for (const [path, m] of [
    [pathA, a],
    [pathB, b],
  ] as const) {
    if (m.rows === 0) throw new UsageError(`${path}: the matrix is empty (no rows); need at least 3 samples`);
    if (m.cols === 0) throw new UsageError(`${path}: the matrix has no columns (features)`);
  }
  if (a.rows !== b.rows) {
    throw new UsageError(
      `row counts differ: ${pathA} has ${a.rows} rows, ${pathB} has ${b.rows}; both must hold the same samples in the same order`,
    );
  }
  const measures = measuresFor(a.rows, requested, options.measures === undefined);
  if (readsOption(measures, 'k') && k >= a.rows) {
    throw new UsageError(`--k: got ${k}; allowed: an integer from 1 to N - 1 = ${a.rows - 1} (N = ${a.rows} rows)`);
  }
  const problem = checkComparable(a, b, measures, { k, rbfSigma });
  if (problem !== null) throw new UsageError(problem.replace(/^A /, `A (${pathA}) `).replace(/^B /, `B (${pathB}) `));
  const limit = blockedLimit(a, b, measures);
  if (a.rows > BLOCKED_ABOVE) {
    if (limit !== null) throw new UsageError(limit);
    // Never silently slow: the tiled path trades time for memory linear in N.
    process.stderr.write(
      `compare: ${a.rows} rows > ${BLOCKED_ABOVE}: distances are computed tile by tile on one thread ` +
        `(memory linear in N, two passes over the ${((a.rows * (a.rows - 1)) / 2).toExponential(1)} pairs; see docs/similarity.md)\n`,
    );
  }
  try {
    return { n: a.rows, measures: await compareMatricesParallel(a, b, measures, { k, rbfSigma }, defaultThreads()) };
  } catch (error) {
    // The measures' own refusals (too many tied distances to select the median exactly...).
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** The human-readable table `compare` prints without `--json`. */
export function formatCompareTable(result: CompareResult): string {
  const names = Object.keys(result.measures);
  const width = Math.max(...names.map((n) => n.length), 'measure'.length);
  const lines = [`n = ${result.n}`, `${'measure'.padEnd(width)}  value`];
  for (const name of names) lines.push(`${name.padEnd(width)}  ${formatValue(result.measures[name])}`);
  return lines.join('\n');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(6) : v.toExponential(4);
}

/** The measures that read an option, for its help line. */
function readers(option: keyof MeasureOptions): string {
  return allMeasures()
    .filter((m) => m.reads.includes(option))
    .map((m) => m.name)
    .join(', ');
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(`similarity measures (${MEASURE_NAMES.join(', ')}) between two representation matrices`)
    .argument('<A>', 'first matrix: .arrow, .npy (float32/float64, C order) or .csv; rows = samples')
    .argument('<B>', 'second matrix, same rows as A')
    .option('--measures <list>', `comma-separated: ${MEASURE_NAMES.join(',')} (default: all)`)
    .option('--k <K>', `neighbours per point, for ${readers('k')}`, String(DEFAULT_K))
    .option(
      '--rbf-sigma <S>',
      `bandwidth as a multiple of the median pairwise distance, for ${readers('rbfSigma')}`,
      String(DEFAULT_RBF_SIGMA),
    )
    .option('--json', 'print one JSON object: {"n":N,"measures":{...}}')
    .action(async (pathA: string, pathB: string, opts: { measures?: string; k?: string; rbfSigma?: string; json?: boolean }) => {
      const result = await compareFiles(pathA, pathB, opts);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatCompareTable(result)}\n`);
    });
}
