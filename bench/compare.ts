/**
 * Benchmark of `defrost compare` on two 2,000 x 512 matrices with all measures (issue 6
 * acceptance: under 10 s end to end on the project machine, including process start).
 *
 *   node dist/bench/compare.js [--rows N] [--cols P] [--json]
 *
 * Writes two related float32 .npy matrices to bench/out/, then times one child process running
 * `node bin/defrost.js compare A B --json` (or, before the CLI entry exists, this module's own
 * `--child` mode calling the same `compareFiles`). Also reports an in-process breakdown by
 * measure, so a regression can be located.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareFiles } from '../stages/similarity/compare-command.js';
import { readMatrix } from '../stages/lib/formats/matrix-io.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { Rng } from '../stages/lib/random.js';
import { MEASURE_NAMES, Representation, compareRepresentations, type Matrix } from '../stages/lib/measures/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A: Gaussian; B: a noisy nonlinear mix of A (so the measures are neither 0 nor 1). */
function inputs(rows: number, cols: number): [Matrix, Matrix] {
  const rng = new Rng(0, 'bench/compare');
  const a = rng.fillNormal(new Float64Array(rows * cols));
  const w = rng.fillNormal(new Float64Array(cols * cols)).map((v) => v / Math.sqrt(cols));
  const b = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let k = 0; k < cols; k++) {
      const v = a[i * cols + k];
      if (v === 0) continue;
      for (let j = 0; j < cols; j++) b[i * cols + j] += v * w[k * cols + j];
    }
  for (let t = 0; t < b.length; t++) b[t] = Math.max(0, b[t]) + 0.1 * rng.normal();
  return [
    { rows, cols, data: a },
    { rows, cols, data: b },
  ];
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const result = await compareFiles(process.argv[3], process.argv[4]);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows = argument('--rows', 2000);
  const cols = argument('--cols', 512);
  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const fa = join(outDir, `compare-a-${rows}x${cols}.npy`);
  const fb = join(outDir, `compare-b-${rows}x${cols}.npy`);
  const [a, b] = inputs(rows, cols);
  writeFileSync(fa, encodeNpyArray([a.rows, a.cols], Float32Array.from(a.data)));
  writeFileSync(fb, encodeNpyArray([b.rows, b.cols], Float32Array.from(b.data)));

  const cli = existsSync(join(root, 'dist', 'stages', 'cli.js'));
  const command = cli
    ? [join(root, 'bin', 'defrost.js'), 'compare', fa, fb, '--json']
    : [fileURLToPath(import.meta.url), '--child', fa, fb];
  // GNU time, when present, also reports the child's CPU seconds: on a shared, loaded machine
  // they say what the command costs, where wall time says what else was running.
  const timer = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'DEFROST_CPU %U %S'] : [];
  const t0 = performance.now();
  const child = spawnSync(timer[0] ?? process.execPath, [...timer.slice(1), ...(timer.length ? [process.execPath] : []), ...command], {
    encoding: 'utf8',
  });
  const endToEnd = (performance.now() - t0) / 1000;
  if (child.status !== 0) throw new Error(`compare failed (${child.status}): ${child.stderr}`);
  const cpu = /DEFROST_CPU ([\d.]+) ([\d.]+)/.exec(child.stderr);
  const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : null;
  const result = JSON.parse(child.stdout.trim().split('\n').pop() as string) as { n: number; measures: Record<string, number> };

  // In-process breakdown, on the matrices as read back (float32 -> float64, like the command).
  const [ra, rb] = [new Representation(await readMatrix(fa)), new Representation(await readMatrix(fb))];
  const seconds: Record<string, number> = {};
  let t = performance.now();
  void ra.gram;
  void rb.gram;
  seconds.gram = (performance.now() - t) / 1000;
  for (const measure of MEASURE_NAMES) {
    t = performance.now();
    compareRepresentations(ra, rb, [measure], { k: 10, rbfSigma: 1 });
    seconds[measure] = (performance.now() - t) / 1000;
  }
  const report = {
    rows,
    cols,
    via: cli ? 'bin/defrost.js compare' : 'compareFiles in a child process',
    end_to_end_s: endToEnd,
    cpu_s: cpuSeconds,
    breakdown_s: seconds,
    measures: result.measures,
  };
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    console.log(
      `compare ${rows} x ${cols}, all measures, via ${report.via}: ${endToEnd.toFixed(2)} s end to end` +
        (cpuSeconds === null ? '' : `, ${cpuSeconds.toFixed(2)} s CPU`),
    );
    for (const [name, s] of Object.entries(seconds)) console.log(`  ${name.padEnd(24)} ${s.toFixed(3)} s`);
    for (const [name, v] of Object.entries(result.measures)) console.log(`  ${name.padEnd(30)} ${v.toFixed(6)}`);
  }
}

await main();
