#!/usr/bin/env node
// `make bench`, part 2 (docs/performance.md#imported-networks): training throughput of the
// ResNet-8-like ONNX fixture, defrost (bench/onnx-resnet8.ts: the training loop's step, libtorch
// where built) against PyTorch 1.13 (bench/torch_resnet8.py) on the same network, batch 64, Adam,
// one thread on both sides (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1, torch threads 1), at every
// frozen-prefix depth 0..4, in one invocation so that the ratio means something on a shared
// machine. Target (issue 24): defrost at least 1.0x PyTorch at every depth.
//
//   BENCH_SECONDS=3          CPU seconds per depth per run (default 3)
//   BENCH_ROUNDS=2           runs per side, alternating; each depth keeps its best run per side
//   BENCH_CHANNELS_LAST=0    skips the extra PyTorch run in channels-last memory format
//
// Throughput is compared per CPU second: on a shared machine wall time mostly measures the other
// work, CPU time far less. OPENBLAS_CORETYPE, when set, applies to both sides. Results also go to
// bench/out/resnet8.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = process.env.BENCH_SECONDS ?? '3';
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '2') || 1);
const channelsLast = process.env.BENCH_CHANNELS_LAST !== '0';
const { findTorchPython } = await import(join(root, 'dist', 'bench', 'sweep.js'));
const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const fmt = (value, digits = 2) => (value == null ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(digits));

const jsonLines = (text) => text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));

async function defrost() {
  const { stdout } = await $({ cwd: root, env })`${process.execPath} ${join(root, 'dist', 'bench', 'onnx-resnet8.js')} --seconds ${seconds}`;
  return jsonLines(stdout);
}

async function pytorch(python, flags) {
  const result = await $({ cwd: root, env, nothrow: true })`${python} ${join(root, 'bench', 'torch_resnet8.py')} ${seconds} ${flags}`;
  if (result.exitCode !== 0) {
    process.stderr.write(result.stderr);
    return [];
  }
  return jsonLines(result.stdout);
}

/** Per depth, the run with the most samples per CPU second. */
function bestByDepth(runs) {
  const best = new Map();
  for (const row of runs.flat()) {
    const kept = best.get(row.depth);
    if (!kept || row.samples_per_cpu_s > kept.samples_per_cpu_s) best.set(row.depth, row);
  }
  return best;
}

const python = findTorchPython();
if (python === null) console.log('bench resnet8: PyTorch is not installed (Debian: apt-get install python3-torch); printing defrost only');
console.log(`bench resnet8: load average ${load()}; ${seconds} CPU-s per depth, best of ${rounds} alternating runs per side`);
if (process.env.OPENBLAS_CORETYPE) console.log(`bench resnet8: OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} (applies to both sides)`);
const ours = [];
const theirs = [];
const theirsLast = [];
for (let round = 0; round < rounds; round++) {
  ours.push(await defrost());
  if (python) theirs.push(await pytorch(python, []));
  if (python && channelsLast) theirsLast.push(await pytorch(python, ['--channels-last']));
}
const [a, b, c] = [bestByDepth(ours), bestByDepth(theirs), bestByDepth(theirsLast)];
const rows = [...a.keys()].map((depth) => {
  const d = a.get(depth);
  const p = b.get(depth) ?? null;
  const pl = c.get(depth) ?? null;
  return {
    depth,
    step: d.step,
    defrost: d,
    pytorch: p,
    pytorch_channels_last: pl,
    ratio: p ? d.samples_per_cpu_s / p.samples_per_cpu_s : null,
    ratio_channels_last: pl ? d.samples_per_cpu_s / pl.samples_per_cpu_s : null,
    wall_ratio: p ? d.samples_per_s / p.samples_per_s : null,
  };
});
console.log('');
console.log('ResNet-8-like, batch 64, Adam, one thread: samples per CPU second (wall in brackets)');
console.log('frozen l  step       defrost        pytorch        ratio  target   | pytorch channels-last  ratio');
for (const r of rows) {
  console.log(
    [
      String(r.depth).padStart(8),
      ` ${r.step.padEnd(9)}`,
      `${fmt(r.defrost.samples_per_cpu_s)} (${fmt(r.defrost.samples_per_s)})`.padStart(14),
      `${fmt(r.pytorch?.samples_per_cpu_s)} (${fmt(r.pytorch?.samples_per_s)})`.padStart(14),
      `${fmt(r.ratio)}x`.padStart(7),
      `  >= 1.0${r.ratio == null ? '' : r.ratio >= 1 ? ' ok' : ' BELOW'}`.padEnd(11),
      '|',
      `${fmt(r.pytorch_channels_last?.samples_per_cpu_s)} (${fmt(r.pytorch_channels_last?.samples_per_s)})`.padStart(22),
      `${fmt(r.ratio_channels_last)}x`.padStart(7),
    ].join(' '),
  );
}
console.log(`bench resnet8: load average ${load()} at the end`);
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
writeFileSync(join(root, 'bench', 'out', 'resnet8.json'), `${JSON.stringify({ seconds, rounds, load_after: loadavg(), rows }, null, 2)}\n`);
