#!/usr/bin/env node
// `make bench`: training throughput of the reference MLP and CNN, defrost (`defrost bench train`,
// backend auto) against PyTorch (bench/torch_reference.py) at equal thread counts, and their
// ratios against the targets of issue 3 (MLP >= 0.5x, CNN >= 0.25x PyTorch with 1 thread).
//
//   BENCH_THREADS=1,2   thread counts to compare (default 1)
//   BENCH_SECONDS=5     seconds measured per run after warm-up (default 5)
//   DEFROST_BACKEND     as for `defrost run` (default auto)
//
// Both sides also report samples per CPU-second, which moves far less than the wall-clock rate
// when other work shares the machine; the load average is printed for the same reason. PyTorch is
// optional: without it the defrost figures are printed alone. Results also go to bench/out/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const threadCounts = (process.env.BENCH_THREADS ?? '1').split(',').map(Number).filter((n) => n > 0);
const seconds = process.env.BENCH_SECONDS ?? '5';
const targets = { mlp: 0.5, cnn: 0.25 };

function lastJsonLine(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    if (line.startsWith('{')) return JSON.parse(line);
  }
  return null;
}

function defrostBench(model, threads) {
  const args = [join(root, 'bin', 'defrost.js'), 'bench', 'train', '--model', model, '--threads', String(threads), '--seconds', seconds, '--json'];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`defrost bench train --model ${model} failed (exit ${result.status})`);
  }
  return lastJsonLine(result.stdout);
}

/** A python3 that has torch: Debian's python3-torch lives in /usr/bin/python3, not in pyenv's. */
function findTorchPython() {
  for (const python of [process.env.TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}

function torchBench(python, model, threads) {
  const script = join(root, 'bench', 'torch_reference.py');
  const result = spawnSync(python, [script, '--model', model, '--threads', String(threads), '--seconds', seconds], { encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    return null;
  }
  return lastJsonLine(result.stdout);
}

const fmt = (value) => (value == null ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(2));

const python = findTorchPython();
if (python === null) console.log('bench: PyTorch is not installed (Debian: apt-get install python3-torch); printing defrost only');
console.log(`bench: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${seconds} s per run`);
if (process.env.OPENBLAS_CORETYPE) console.log(`bench: OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} (applies to both sides)`);

const rows = [];
for (const threads of threadCounts) {
  for (const model of ['mlp', 'cnn']) {
    const ours = defrostBench(model, threads);
    const theirs = python ? torchBench(python, model, threads) : null;
    const ratio = theirs ? ours.samples_per_s / theirs.samples_per_s : null;
    const cpuRatio = theirs ? ours.samples_per_cpu_s / theirs.samples_per_cpu_s : null;
    rows.push({ model, threads, backend: ours.backend, defrost: ours, pytorch: theirs, ratio, cpu_ratio: cpuRatio, target: targets[model] });
  }
}

console.log('');
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
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
writeFileSync(join(root, 'bench', 'out', 'bench.json'), `${JSON.stringify({ load: loadavg(), rows }, null, 2)}\n`);
