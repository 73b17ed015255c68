/**
 * Shared by the engine tests: a temporary code root for the toy project, a temporary store, and
 * a runner for the real CLI (`bin/defrost.js`) pointed at the engine's own toy project
 * (`test/toy-project/`, make-numbers -> square -> sum, its own config `TOY_CONFIG`), so engine
 * tests do not move with the science. `sandbox({ DEFROST_PROJECT_MODULE: undefined })` runs
 * defrost's own project instead (for tests of its config messages; nothing is trained there).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../pipeline/cli/run.js';
import type { RunListing } from '../pipeline/run-records.js';
import { scratchDir } from './stage-rig.js';
import { TOY_STAGES } from './toy-project/project.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'defrost.js');
export const QUICK = join(ROOT, 'experiments', 'quick.yaml');
/** The engine tests' config for the toy project: 4 values, so 4 + 4 + 1 instances. */
export const TOY_CONFIG = join(ROOT, 'test', 'toy-project', 'toy.yaml');
const TOY_PROJECT_MODULE = join(ROOT, 'dist', 'test', 'toy-project', 'project.js');

export interface Sandbox {
  readonly dir: string;
  readonly store: string;
  readonly codeRoot: string;
  readonly env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A temp dir with `code/toy/<stage>.ts` (the toy stages' fingerprinted sources) and `store/`; the CLI runs the toy project. */
export function sandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = scratchDir('engine');
  const codeRoot = join(dir, 'code');
  mkdirSync(join(codeRoot, 'toy'), { recursive: true });
  for (const { name: s } of TOY_STAGES) writeFileSync(join(codeRoot, 'toy', `${s}.ts`), `// toy stage ${s}\nexport const name = '${s}';\n`);
  const store = join(dir, 'store');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEFROST_PROJECT_MODULE: TOY_PROJECT_MODULE,
    DEFROST_TOY_CODE_ROOT: codeRoot,
    DEFROST_STORE: store,
    // Throwaway stores: skip fsync (publishing stays atomic against process crashes). The
    // kill -9 tests turn it back on to exercise the durable path.
    DEFROST_UNSAFE_NO_FSYNC: '1',
    ...extraEnv,
  };
  return { dir, store, codeRoot, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same sandbox, by the name the engine tests use: the CLI runs the toy project, config `TOY_CONFIG`. */
export const toySandbox = sandbox;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function defrost(box: Sandbox, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: box.dir, env: { ...box.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI at a terminal: `script` gives it a pseudo-terminal, and `answer` comes on its stdin (for
 * the questions gc and runs forget ask). Its output (both streams) is in `stdout`.
 */
export function atTerminal(box: Sandbox, args: readonly string[], answer: string): CliResult {
  const r = spawnSync('script', ['-qec', [process.execPath, BIN, ...args].join(' '), '/dev/null'], {
    cwd: box.dir,
    env: box.env,
    input: `${answer}\n`,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI without waiting (for kill and concurrency tests). */
export function defrostAsync(box: Sandbox, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: box.dir, env: { ...box.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolveDone) => child.on('close', (code) => resolveDone({ code, stdout, stderr })));
  return { child, done };
}

/** The `run --json` summary object. */
export type RunJson = RunSummary;

/** The run summary object (docs/engine.md): the last line of stdout. */
export function lastJson<T = RunJson>(result: CliResult): T {
  const lines = result.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]) as T;
  } catch {
    throw new Error(`no JSON on the last stdout line (exit ${result.code})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Published (manifest-bearing) instance dirs in a store, as `stage/key`. */
export function publishedKeys(store: string): string[] {
  if (!existsSync(store)) return [];
  const out: string[] = [];
  for (const stage of readdirSync(store)) {
    if (stage.startsWith('.')) continue;
    for (const key of readdirSync(join(store, stage)))
      if (existsSync(join(store, stage, key, 'manifest.json'))) out.push(`${stage}/${key}`);
  }
  return out.sort();
}

/**
 * The records `defrost runs --json` printed, one a line, after checking that it exited 0 and that
 * every line has the fields docs/engine.md documents for every record.
 */
export function runListings(result: CliResult): RunListing[] {
  assert.equal(result.code, 0, result.stderr);
  const listings = result.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RunListing);
  for (const listing of listings)
    for (const field of ['id', 'name', 'date', 'config', 'overrides', 'executed', 'cached', 'failed', 'wall_s'])
      assert.ok(field in listing, `runs --json lacks ${field}`);
  return listings;
}
