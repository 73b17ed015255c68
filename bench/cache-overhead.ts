/**
 * Benchmark of issue 2, acceptance 1: the wall time of a fully cached `defrost run` of
 * experiments/quick.yaml (135 instances), end to end (`node bin/defrost.js run ... --json`, so
 * process start-up and the scheduler's whole import graph are included). Target: < 2 s on the
 * 2-core machine.
 *
 *   node dist/bench/cache-overhead.js            # the real defrost project (first run computes quick.yaml)
 *   BENCH_PROJECT=toy node dist/bench/...        # the engine's toy stages (no TensorFlow; engine cost only)
 *   BENCH_RUNS=5   cached runs measured (default 5)    BENCH_STORE=DIR   store to use (default: a temp dir)
 *
 * Prints one JSON object and writes it to bench/out/cache-overhead.json. The load average is
 * reported because other work on the machine moves wall times.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGES } from '../stages/project.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'defrost.js');
const config = join(root, 'experiments', 'quick.yaml');
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? '5'));
const toy = process.env.BENCH_PROJECT === 'toy';
const scratch = mkdtempSync(join(tmpdir(), 'defrost-bench-'));
const store = process.env.BENCH_STORE ?? join(scratch, 'store');

const env: NodeJS.ProcessEnv = { ...process.env };
if (toy) {
  const code = join(scratch, 'code', 'toy');
  mkdirSync(code, { recursive: true });
  for (const s of STAGES) writeFileSync(join(code, `${s.name}.ts`), `// toy ${s.name}\n`);
  env.DEFROST_PROJECT_MODULE = join(root, 'dist', 'test', 'fixtures', 'toy-project.js');
  env.DEFROST_TOY_CODE_ROOT = join(scratch, 'code');
}

interface Summary {
  stages: number;
  executed: number;
  cached: number;
  failed: number;
  wall_s: number;
}

/** /usr/bin/time reports the child's CPU seconds, which other load on the machine moves far less than wall time. */
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function run(): { wall: number; cpu: number | null; summary: Summary } {
  const start = performance.now();
  const argv = [process.execPath, bin, 'run', config, '--store', store, '--json'];
  const r = timeBin
    ? spawnSync(timeBin, ['-f', 'BENCH-CPU %U %S', ...argv], { cwd: root, env, encoding: 'utf8' })
    : spawnSync(argv[0], argv.slice(1), { cwd: root, env, encoding: 'utf8' });
  const wall = (performance.now() - start) / 1000;
  const cpuMatch = /BENCH-CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const cpu = cpuMatch ? Number(cpuMatch[1]) + Number(cpuMatch[2]) : null;
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    process.stderr.write(r.stderr.slice(-4000));
    throw new Error(`defrost run exited ${r.status}`);
  }
  return { wall, cpu, summary: JSON.parse(last) as Summary };
}

function nodeStartup(): number {
  const start = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return (performance.now() - start) / 1000;
}

try {
  const first = run();
  process.stderr.write(`first run: ${first.summary.executed} executed, ${first.summary.cached} cached in ${first.wall.toFixed(1)} s\n`);
  const walls: number[] = [];
  const internal: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = run();
    if (r.summary.executed !== 0) throw new Error(`a cached run executed ${r.summary.executed} instances`);
    walls.push(r.wall);
    internal.push(r.summary.wall_s);
    if (r.cpu !== null) cpus.push(r.cpu);
  }
  const median = (xs: number[]): number | null => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
  const sorted = [...walls].sort((a, b) => a - b);
  const medianWall = median(walls) as number;
  const result = {
    project: toy ? 'toy' : 'defrost',
    instances: first.summary.stages,
    cached_runs_wall_s: walls.map((w) => Math.round(w * 1000) / 1000),
    median_wall_s: Math.round(medianWall * 1000) / 1000,
    min_wall_s: Math.round(sorted[0] * 1000) / 1000,
    median_reported_wall_s: median(internal),
    /** user + sys CPU seconds of the whole `defrost run` process. */
    median_cpu_s: cpus.length ? Math.round((median(cpus) as number) * 1000) / 1000 : null,
    node_startup_s: Math.round(nodeStartup() * 1000) / 1000,
    target_s: 2,
    meets_target: medianWall < 2,
    loadavg_1m: Math.round(loadavg()[0] * 100) / 100,
  };
  mkdirSync(join(root, 'bench', 'out'), { recursive: true });
  writeFileSync(join(root, 'bench', 'out', 'cache-overhead.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  if (!process.env.BENCH_STORE) rmSync(scratch, { recursive: true, force: true });
}
