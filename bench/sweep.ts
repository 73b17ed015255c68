/**
 * Sweep-level benchmark (`make bench`, docs/performance.md): a whole study from an empty store,
 * `defrost run CONFIG --jobs N` with one compute thread per worker, against a plain PyTorch
 * script (bench/torch_sweep.py) running the same training protocol on the same data at the same
 * core count (N single-threaded processes).
 *
 * The PyTorch side gets its data and protocol from what defrost actually ran: the
 * `generate-data` instances of the store, exported with `defrost export --format npy`, and the
 * params recorded in the training stages' manifests (model, recipe, seeds, sizes, modes, depths).
 *
 *   node dist/bench/sweep.js [--config experiments/default.yaml] [--jobs 1,2] [--set key=value ...] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'bench', 'out', 'sweep');

/** Wall and CPU seconds of one child process (CPU from GNU time when installed). */
export interface Timed {
  readonly wall_s: number;
  readonly user_s: number | null;
  readonly sys_s: number | null;
  readonly stdout: string;
}

export interface SweepRow {
  readonly config: string;
  readonly jobs: number;
  /** Config overrides both sides ran with (`--set`), e.g. `train.early_stopping=null` for the fixed budget. */
  readonly sets: readonly string[];
  readonly defrost: Timed & { readonly executed: number | null };
  readonly pytorch: (Timed & { readonly runs: number; readonly mean_test_accuracy: number }) | null;
  /** PyTorch wall time / defrost wall time: above 1, defrost is faster. */
  readonly speed_ratio: number | null;
}

/** Runs a command under GNU time (when present) and measures its wall time. */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'DEFROST_TIME %U %S'] : [];
  const start = performance.now();
  const result = spawnSync(time[0] ?? command, [...time.slice(1), ...(time.length ? [command] : []), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - start) / 1000;
  if (result.status !== 0) {
    process.stderr.write(result.stderr.slice(-4000));
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})`);
  }
  const cpu = /DEFROST_TIME ([\d.]+) ([\d.]+)/.exec(result.stderr);
  return { wall_s: wall, user_s: cpu ? Number(cpu[1]) : null, sys_s: cpu ? Number(cpu[2]) : null, stdout: result.stdout };
}

function lastJson<T>(text: string): T {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON line in: ${text.slice(-500)}`);
  return JSON.parse(line) as T;
}

interface Manifest {
  readonly params: Record<string, unknown>;
}

function manifests(store: string, stage: string): Array<{ dir: string; params: Record<string, unknown> }> {
  const stageDir = join(store, stage);
  if (!existsSync(stageDir)) return [];
  return readdirSync(stageDir)
    .map((key) => join(stageDir, key))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => ({ dir, params: (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest).params }));
}

const distinct = <T>(values: T[]): T[] => [...new Set(values)].sort((a, b) => (a as number) - (b as number));

/** Exports one dataset table's features and labels as .npy files for the PyTorch script. */
function exportTable(store: string, dir: string, table: string, prefix: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [column, suffix] of [
    ['features', 'x'],
    ['label', 'y'],
  ]) {
    const out = join(outDir, `${prefix}-${table}-${suffix}.npy`);
    timed(process.execPath, [
      join(root, 'bin', 'defrost.js'),
      'export',
      dir,
      '--store',
      store,
      '--table',
      table,
      '--column',
      column,
      '--format',
      'npy',
      '--out',
      out,
    ]);
    files[`${table}_${suffix}`] = out;
  }
  return files;
}

/** train, test and (when the store's protocol has one) validation tables of a data instance. */
function exportTables(store: string, dir: string, prefix: string): Record<string, string> {
  const tables = ['train', 'test', 'validation'].filter((table) => existsSync(join(dir, `${table}.arrow`)));
  return Object.assign({}, ...tables.map((table) => exportTable(store, dir, table, prefix))) as Record<string, string>;
}

function shapeOf(dir: string): number[] {
  // The table's shape metadata, as recorded in the generate-data log ("of shape [..]").
  const log = readFileSync(join(dir, 'log.txt'), 'utf8');
  const m = /of shape (\[[\d,]+\])/.exec(log);
  if (!m) throw new Error(`no sample shape in ${dir}/log.txt`);
  return JSON.parse(m[1]) as number[];
}

/** The PyTorch protocol file for what the store holds (written next to the exported data). */
export function writeProtocol(store: string, workers: number): string {
  mkdirSync(outDir, { recursive: true });
  const transfers = manifests(store, 'transfer').map((m) => m.params);
  const scratch = manifests(store, 'train-scratch').map((m) => m.params);
  if (transfers.length === 0) throw new Error(`no transfer instances in ${store}`);
  const data = manifests(store, 'generate-data');
  const source = data.find((m) => m.params.role === 'source');
  if (!source) throw new Error(`no source data in ${store}`);
  const targets = data.filter((m) => m.params.role === 'target');
  const first = transfers[0];
  const sizes = distinct(transfers.map((p) => p.n as number));
  const scratchSizes = distinct(scratch.map((p) => p.n as number));
  const protocol = {
    workers,
    model: first.model,
    train: first.train,
    seeds: distinct(transfers.map((p) => p.seed as number)),
    modes: [...new Set(transfers.map((p) => p.mode as string))],
    depths: distinct(transfers.map((p) => p.depth as number)),
    target_sizes: sizes,
    reference_size: scratchSizes.find((n) => !sizes.includes(n)) ?? sizes[sizes.length - 1],
    source: {
      ...exportTables(store, source.dir, 'source'),
      shape: shapeOf(source.dir),
    },
    targets: targets.map((t, i) => ({
      correlation: t.params.correlation ?? null,
      ...exportTables(store, t.dir, `target${i}`),
      shape: shapeOf(t.dir),
    })),
  };
  const file = join(outDir, `protocol-${workers}.json`);
  writeFileSync(file, `${JSON.stringify(protocol, null, 2)}\n`);
  return file;
}

/** A python3 that has torch: Debian's python3-torch lives in /usr/bin/python3, not in pyenv's. */
export function findTorchPython(): string | null {
  for (const python of [process.env.TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => Boolean(p))) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

/**
 * One study at `jobs` workers (one thread each), then the PyTorch reference at as many processes.
 * `sets` are config overrides (`defrost run --set`); the PyTorch side reads the protocol they
 * give from the store's manifests, so both sides run the same one.
 */
export function benchSweep(config: string, jobs: number, python: string | null, sets: readonly string[] = []): SweepRow {
  mkdirSync(outDir, { recursive: true });
  const store = join(outDir, sets.length === 0 ? `store-${jobs}` : `store-${jobs}-set`);
  rmSync(store, { recursive: true, force: true });
  const env = { ...process.env, DEFROST_THREADS: '1' };
  const run = timed(
    process.execPath,
    [
      join(root, 'bin', 'defrost.js'),
      'run',
      config,
      '--jobs',
      String(jobs),
      ...sets.flatMap((set) => ['--set', set]),
      '--store',
      store,
      '--json',
    ],
    env,
  );
  const summary = lastJson<{ executed?: number; failed?: number }>(run.stdout);
  if (summary.failed) throw new Error(`defrost run ${config}: ${summary.failed} instance(s) failed`);
  let pytorch: SweepRow['pytorch'] = null;
  if (python !== null) {
    const protocol = writeProtocol(store, jobs);
    // One thread per process on the PyTorch side too: torch.set_num_threads(1) leaves OpenBLAS's
    // own pool (which PyTorch's matmuls use here) at the core count.
    const reference = timed(python, [join(root, 'bench', 'torch_sweep.py'), protocol], {
      ...process.env,
      OPENBLAS_NUM_THREADS: '1',
      OMP_NUM_THREADS: '1',
    });
    const result = lastJson<{ runs: number; mean_test_accuracy: number }>(reference.stdout);
    pytorch = { ...reference, runs: result.runs, mean_test_accuracy: result.mean_test_accuracy };
  }
  return {
    config,
    jobs,
    sets,
    defrost: { ...run, executed: summary.executed ?? null },
    pytorch,
    speed_ratio: pytorch ? pytorch.wall_s / run.wall_s : null,
  };
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const config = argument('--config', 'experiments/default.yaml');
  const jobList = argument('--jobs', '1,2').split(',').map(Number);
  const sets = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--set' ? [a] : []));
  const python = findTorchPython();
  const rows = jobList.map((jobs) => benchSweep(config, jobs, python, sets));
  if (process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ load: loadavg(), rows: rows.map(({ defrost, pytorch, ...r }) => ({ ...r, defrost: { ...defrost, stdout: undefined }, pytorch: pytorch && { ...pytorch, stdout: undefined } })) })}\n`,
    );
  } else {
    for (const r of rows)
      console.log(
        JSON.stringify({ ...r, defrost: { ...r.defrost, stdout: undefined }, pytorch: r.pytorch && { ...r.pytorch, stdout: undefined } }),
      );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
