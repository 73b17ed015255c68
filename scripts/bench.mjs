#!/usr/bin/env node
// `make bench` (docs/performance.md): defrost against PyTorch on this machine, both sides in one
// invocation under the same environment, so that their ratio means something on a shared machine.
// (Its second part, an imported ResNet at every frozen depth, is scripts/bench-resnet8.mjs.)
//
// 1. Training throughput (`defrost bench train`, backend auto) against bench/torch_reference.py,
//    one thread each (BENCH_THREADS), with the targets of issue 16: MLP >= 1.2x, CNN >= 1.0x.
// 2. The whole study (BENCH_SWEEP_CONFIG, default experiments/default.yaml) from an empty store,
//    `defrost run --jobs N` with one thread per worker, against bench/torch_sweep.py running the
//    same training protocol on the same exported data in N single-threaded processes
//    (BENCH_SWEEP_JOBS, default 1,2; BENCH_SWEEP=0 skips it). Target: jobs 1 at least 1.0x
//    PyTorch's speed, system time under 10% of the wall time.
// 3. The same study with a fixed budget at --jobs 1 (`--set train.early_stopping=null` on both
//    sides: every run trains its whole budget, as issue 28 measures per-instance overhead), target
//    at least 1.5x PyTorch. BENCH_SWEEP_FIXED sets the overrides (';'-separated, default
//    train.early_stopping=null); BENCH_SWEEP_FIXED=0 skips it.
//
//   BENCH_SECONDS=5     seconds measured per throughput run after warm-up (default 5)
//   BENCH_ROUNDS=3      throughput runs per side, alternating defrost and PyTorch; the best rate
//                       of each side is compared (the run least disturbed by other work)
//   DEFROST_BACKEND     as for `defrost run` (default auto)
//
// Both sides also report CPU seconds, which move far less than wall time when other work shares
// the machine; the load average is printed before and after for the same reason. PyTorch is
// optional: without it the defrost figures are printed alone. Results also go to bench/out/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const threadCounts = (process.env.BENCH_THREADS ?? '1').split(',').map(Number).filter((n) => n > 0);
const seconds = process.env.BENCH_SECONDS ?? '5';
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '3') || 1);
const sweepConfig = process.env.BENCH_SWEEP_CONFIG ?? 'experiments/default.yaml';
const sweepJobs = (process.env.BENCH_SWEEP_JOBS ?? '1,2').split(',').map(Number).filter((n) => n > 0);
const fixedSets = (process.env.BENCH_SWEEP_FIXED ?? 'train.early_stopping=null').split(';').filter((s) => s !== '' && s !== '0');
const targets = { mlp: 1.2, cnn: 1.0 };
const { benchSweep, findTorchPython } = await import(join(root, 'dist', 'bench', 'sweep.js'));

function lastJsonLine(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    if (line.startsWith('{')) return JSON.parse(line);
  }
  return null;
}

/** A failure throws, with defrost's stderr and exit code in the message. */
async function defrostBench(model, threads) {
  const defrost = join(root, 'bin', 'defrost.js');
  const { stdout } = await $({ cwd: root })`${process.execPath} ${defrost} bench train --model ${model} --threads ${threads} --seconds ${seconds} --json`;
  return lastJsonLine(stdout);
}

async function torchBench(python, model, threads) {
  const script = join(root, 'bench', 'torch_reference.py');
  // OpenBLAS (which this PyTorch's matmuls use) sizes its own pool from the environment.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const result = await $({ env, nothrow: true })`${python} ${script} --model ${model} --threads ${threads} --seconds ${seconds}`;
  if (result.exitCode !== 0) {
    process.stderr.write(result.stderr);
    return null;
  }
  return lastJsonLine(result.stdout);
}

const fmt = (value, digits = 2) => (value == null ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(digits));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

const python = findTorchPython();
if (python === null) console.log('bench: PyTorch is not installed (Debian: apt-get install python3-torch); printing defrost only');
const loadBefore = loadavg();
console.log(`bench: load average ${load()} (2 cores are busy at 2.0); ${seconds} s per throughput run`);
if (process.env.OPENBLAS_CORETYPE) console.log(`bench: OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} (applies to both sides)`);

const rows = [];
for (const threads of threadCounts) {
  for (const model of ['mlp', 'cnn']) {
    const best = (runs) => runs.filter(Boolean).reduce((a, b) => (a === null || b.samples_per_s > a.samples_per_s ? b : a), null);
    const oursRuns = [];
    const theirsRuns = [];
    for (let round = 0; round < rounds; round++) {
      oursRuns.push(await defrostBench(model, threads));
      if (python) theirsRuns.push(await torchBench(python, model, threads));
    }
    const ours = best(oursRuns);
    const theirs = best(theirsRuns);
    const ratio = theirs ? ours.samples_per_s / theirs.samples_per_s : null;
    const cpuRatio = theirs ? ours.samples_per_cpu_s / theirs.samples_per_cpu_s : null;
    rows.push({ model, threads, backend: ours.backend, defrost: ours, pytorch: theirs, ratio, cpu_ratio: cpuRatio, target: targets[model] });
  }
}

console.log('');
console.log(`bench train: samples per second, defrost vs PyTorch (best of ${rounds} alternating runs per side)`);
console.log('model threads backend     defrost/s  pytorch/s  ratio  (per CPU-s: defrost  pytorch  ratio)  target');
for (const r of rows) {
  console.log(
    [
      r.model.padEnd(5),
      String(r.threads).padStart(7),
      r.backend.padEnd(10),
      fmt(r.defrost.samples_per_s).padStart(10),
      fmt(r.pytorch?.samples_per_s).padStart(10),
      fmt(r.ratio).padStart(6),
      fmt(r.defrost.samples_per_cpu_s).padStart(20),
      fmt(r.pytorch?.samples_per_cpu_s).padStart(8),
      fmt(r.cpu_ratio).padStart(6),
      `   >= ${r.target}${r.ratio == null ? '' : r.ratio >= r.target ? ' ok' : ' BELOW'}`,
    ].join(' '),
  );
}

const sweeps = [];
if (process.env.BENCH_SWEEP !== '0') {
  console.log('');
  console.log(`sweep: ${sweepConfig} from an empty store, one thread per worker / process; load average ${load()}`);
  console.log('jobs  defrost wall   cpu (sys %wall)   runs  | pytorch wall   cpu      runs  | speed ratio  cpu ratio  target');
  const variants = [
    ...sweepJobs.map((jobs) => ({ jobs, sets: [], target: jobs === 1 ? 1.0 : null })),
    ...(fixedSets.length > 0 ? [{ jobs: 1, sets: fixedSets, target: 1.5 }] : []),
  ];
  for (const { jobs, sets, target } of variants) {
    if (sets.length > 0) console.log(`  the next row with --set ${sets.join(' --set ')} on both sides:`);
    const r = benchSweep(sweepConfig, jobs, python, sets);
    sweeps.push(r);
    const cpu = (t) => (t.user_s == null ? null : t.user_s + t.sys_s);
    const sysShare = r.defrost.sys_s == null ? null : (100 * r.defrost.sys_s) / r.defrost.wall_s;
    const cpuRatio = r.pytorch && cpu(r.pytorch) != null && cpu(r.defrost) ? cpu(r.pytorch) / cpu(r.defrost) : null;
    const verdict =
      target == null || r.speed_ratio == null
        ? ''
        : `>= ${target.toFixed(1)}x, sys < 10%: ${r.speed_ratio >= target && (sysShare ?? 0) < 10 ? 'ok' : 'BELOW'}`;
    console.log(
      [
        String(jobs).padStart(4),
        `${fmt(r.defrost.wall_s, 1)} s`.padStart(13),
        `${fmt(cpu(r.defrost), 1)} s (${fmt(sysShare, 1)}%)`.padStart(17),
        String(r.defrost.executed ?? '-').padStart(6),
        ' |',
        `${fmt(r.pytorch?.wall_s, 1)} s`.padStart(12),
        `${fmt(r.pytorch ? cpu(r.pytorch) : null, 1)} s`.padStart(8),
        String(r.pytorch?.runs ?? '-').padStart(6),
        ' |',
        `${fmt(r.speed_ratio)}x`.padStart(11),
        `${fmt(cpuRatio)}x`.padStart(10),
        ` ${verdict}`,
      ].join(' '),
    );
  }
  console.log('(speed ratio = PyTorch wall / defrost wall: above 1, defrost is faster. defrost also writes every artifact,');
  console.log(' computes the similarity measures and the report, which the PyTorch script does not.)');
}
console.log(`bench: load average ${load()} at the end`);
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
const strip = (t) => t && { ...t, stdout: undefined };
writeFileSync(
  join(root, 'bench', 'out', 'bench.json'),
  `${JSON.stringify({ load_before: loadBefore, load_after: loadavg(), rows, sweeps: sweeps.map((s) => ({ ...s, defrost: strip(s.defrost), pytorch: strip(s.pytorch) })) }, null, 2)}\n`,
);
