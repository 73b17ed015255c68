/**
 * `make chaos`: the reliability soak (issue 8). Runs on the engine's toy project with injectable
 * faults (`test/reliability-project.ts`: make-numbers -> square -> sum, 17 instances for the
 * small sweep, fast and deterministic), so that 50 cycles fit in minutes. Each cycle, on a fresh store:
 *
 *   1. a run is killed at a random moment with a random signal (SIGINT, SIGTERM or SIGKILL);
 *      every third cycle one of its workers also crashes (abort, SIGKILL or SIGSEGV) first;
 *   2. every second cycle a resumed run is killed again;
 *   3. every fourth cycle a published instance is damaged (truncated, bit-flipped, a file deleted,
 *      manifest edited) and one of its consumers removed, so that a downstream stage must read it;
 *   4. every fifth cycle the resume is three concurrent runs of the same sweep;
 *   5. a final resume runs to completion with `--retries 1`.
 *
 * Then the store must verify clean, hold no lock, staging directory or partial instance, and its
 * keys and output-file sha256 sums must equal those of an uninterrupted run. Interrupted runs must
 * stop within 5 s and leave no worker alive. Finally, hostile defrost configs go through defrost's
 * own config loader in-process (thousands) and the real CLI (hundreds): typed exit-2 rejections,
 * no store writes.
 *
 * Prints counts of faults injected and survived; exits 1 if any fault was not survived.
 * Every cycle also plants one hostile store shape between its kills (`hostile.ts`: an edited plan
 * record, a foreign directory, a symlinked internal directory, FIFOs), checks that every command
 * on it ends within 30 s without a stack trace, and, after the final run, that nothing outside the
 * store changed and no result differs from the reference (params and inputs of every manifest).
 *
 * Last, hostile user inputs go through the CLI once (`hostile-inputs.ts`: special files, broken
 * networks, inputs past the size limits, data edited between planning and running).
 *
 * Environment: CHAOS_CYCLES (default 50), CHAOS_SEED (default 1), CHAOS_CLI_CONFIGS (default 200),
 * CHAOS_FUZZ_CONFIGS (default 4000), CHAOS_HOSTILE (default 1; 0 leaves the hostile shapes out),
 * CHAOS_INPUTS (default 1; 0 leaves the hostile user inputs out).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../pipeline/errors.js';
import type { AnyProject } from '../../pipeline/project.js';
import { defrostProject } from '../../stages/project.js';
import { defrost, defrostAsync, lastJson, ROOT, sandbox, type CliResult, type Sandbox } from '../../test/engine-helpers.js';
import { hostileCases } from '../../test/reliability-fuzz-cases.js';
import { plantHostile, poisoned, SHAPES, type Planted } from './hostile.js';
import { hostileInputs } from './hostile-inputs.js';
import {
  childPids,
  compareFingerprints,
  entries,
  isAlive,
  manifestlessDirs,
  reliabilitySandbox,
  sleep,
  SMALL_SWEEP,
  storeFingerprint,
  SWEEP_CONFIG,
} from '../../test/reliability-helpers.js';

const CYCLES = Number(process.env.CHAOS_CYCLES ?? '50');
const CLI_CONFIGS = Number(process.env.CHAOS_CLI_CONFIGS ?? '200');
const FUZZ_CONFIGS = Number(process.env.CHAOS_FUZZ_CONFIGS ?? '4000');
/** CHAOS_HOSTILE=0 leaves out the hostile store shapes (bench/chaos/hostile.ts). */
const HOSTILE = process.env.CHAOS_HOSTILE !== '0';
/** CHAOS_INPUTS=0 leaves out the hostile user inputs (bench/chaos/hostile-inputs.ts). */
const INPUTS = process.env.CHAOS_INPUTS !== '0';
let state = Number(process.env.CHAOS_SEED ?? '1') >>> 0 || 1;
/** xorshift32: the soak's own seeded choices. */
function random(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

interface Tally {
  injected: number;
  survived: number;
}
const tally = new Map<string, Tally>();
const problems: string[] = [];
function record(kind: string, ok: boolean, detail = ''): void {
  const t = tally.get(kind) ?? { injected: 0, survived: 0 };
  t.injected++;
  if (ok) t.survived++;
  else {
    problems.push(`${kind}: ${detail}`);
    process.stderr.write(`NOT SURVIVED ${kind}: ${detail}\n`);
  }
  tally.set(kind, t);
}

const box: Sandbox = reliabilitySandbox({ DEFROST_TOY_SLEEP_MS: '60' });
const runArgs = (store: string, extra: string[] = []): string[] => [
  'run',
  SWEEP_CONFIG,
  ...SMALL_SWEEP,
  '--jobs',
  '2',
  '--store',
  store,
  ...extra,
];

/** Starts a run and kills it with `signal` after `delayMs`; checks it stops in time and leaves no worker. */
async function killRun(store: string, signal: NodeJS.Signals, delayMs: number, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const { child, done } = defrostAsync(box, runArgs(store), env);
  let finished: CliResult | null = null;
  void done.then((r) => (finished = r));
  const workers = new Set<number>();
  const deadline = Date.now() + delayMs;
  while (Date.now() < deadline && finished === null) {
    for (const pid of childPids(child.pid as number)) workers.add(pid);
    await sleep(40);
  }
  if (finished !== null) {
    record(`run finished before the ${signal}`, true);
    return;
  }
  const sent = Date.now();
  child.kill(signal);
  const result = await done;
  const seconds = (Date.now() - sent) / 1000;
  // Workers notice a dead scheduler (SIGKILL) when their IPC channel closes; give them a moment.
  const workerDeadline = Date.now() + 5000;
  while ([...workers].some(isAlive) && Date.now() < workerDeadline) await sleep(50);
  const alive = [...workers].filter(isAlive);
  const expectedCode = signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : null;
  // Killed before it installed its handlers (still loading), a run dies of the signal itself:
  // fine, as long as it had started no worker.
  const codeOk =
    expectedCode === null ? result.code === null : result.code === expectedCode || (result.code === null && workers.size === 0);
  // Locks this run's processes left. (A worker orphaned by an earlier SIGKILLed run may die holding
  // one, e.g. by an injected crash with no scheduler left to clean up: a stale lock, which the next
  // run breaks because its owner is dead. That is not this run's doing.)
  const ours = new Set([...workers, child.pid as number]);
  const locks = entries(store, '.locks')
    .filter((n) => n.endsWith('.lock'))
    .map((n) => readFileSafe(join(store, '.locks', n)))
    .filter((text) => {
      try {
        return ours.has((JSON.parse(text) as { pid: number }).pid);
      } catch {
        return false;
      }
    });
  const ok =
    seconds < 5 && alive.length === 0 && codeOk && (signal === 'SIGKILL' || locks.length === 0) && manifestlessDirs(store).length === 0;
  record(
    `${signal} of a run`,
    ok,
    `stopped in ${seconds.toFixed(1)} s, exit ${result.code}, workers alive ${alive.join(',')}, locks ${locks.join(' ')}, partial ${manifestlessDirs(store).join(',')}`,
  );
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(gone)';
  }
}

const DAMAGE = ['truncate', 'bit-flip', 'delete file', 'edit manifest'] as const;

/** Damages a published instance that has consumers, and removes one published consumer. */
function injectCorruption(store: string): void {
  const published: { stage: string; key: string; dir: string; inputs: { stage: string; key: string }[] }[] = [];
  for (const stage of readdirSync(store).filter((s) => !s.startsWith('.'))) {
    for (const key of readdirSync(join(store, stage))) {
      const dir = join(store, stage, key);
      if (!existsSync(join(dir, 'manifest.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
        inputs: Record<string, { stage: string; key: string }>;
      };
      published.push({ stage, key, dir, inputs: Object.values(manifest.inputs) });
    }
  }
  const withConsumers = published.filter((p) => published.some((c) => c.inputs.some((i) => i.key === p.key)));
  if (withConsumers.length === 0) return;
  const victim = pick(withConsumers);
  const consumer = pick(published.filter((c) => c.inputs.some((i) => i.key === victim.key)));
  const how = pick(DAMAGE);
  const file = join(victim.dir, 'out.arrow');
  if (how === 'truncate') truncateSync(file, Math.floor(readFileSync(file).length / 2));
  else if (how === 'bit-flip') {
    const bytes = readFileSync(file);
    bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
    writeFileSync(file, bytes);
  } else if (how === 'delete file') rmSync(file);
  else {
    const path = join(victim.dir, 'manifest.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"summary": {', '"summary": {"tampered": true, '));
  }
  rmSync(consumer.dir, { recursive: true, force: true });
  pendingCorruption.push(`${how} of ${victim.stage}/${victim.key}`);
}
let pendingCorruption: string[] = [];

async function cycle(n: number, reference: Map<string, Record<string, string>>, referenceStore: string): Promise<void> {
  const store = join(box.dir, `store-${n}`);
  pendingCorruption = [];
  const crash = n % 3 === 0;
  const env: NodeJS.ProcessEnv = crash
    ? {
        DEFROST_FAULT: `${pick(['abort', 'sigkill', 'segv'])}@${pick(['make-numbers{"value":3}', 'square{"value":1}', 'square{"value":6}', 'sum'])}`,
        DEFROST_FAULT_ONCE_DIR: join(box.dir, `fired-${n}`),
      }
    : {};
  await killRun(store, pick(['SIGINT', 'SIGTERM', 'SIGKILL'] as const), 300 + random() * 2700, env);
  if (n % 2 === 0) await killRun(store, pick(['SIGINT', 'SIGTERM', 'SIGKILL'] as const), 200 + random() * 1800, env);
  // Every cycle, between the kills and the resume: one hostile store shape, in turn.
  let planted: Planted | null = null;
  if (HOSTILE) planted = plantHostile(box, store, join(box.dir, `outside-${n}`), SHAPES[(n - 1) % SHAPES.length], pick, record);
  if (n % 4 === 0) {
    // Damage needs published instances with consumers: let a resume finish, then damage.
    const resumed = defrost(box, runArgs(store, ['--json', '--retries', '1']), env);
    record('resume after interrupts', resumed.code === 0, `exit ${resumed.code}: ${resumed.stderr.slice(-300)}`);
    injectCorruption(store);
  }
  let resumeOutput = '';
  if (n % 5 === 0) {
    const runs = [0, 1, 2].map(() => defrostAsync(box, runArgs(store, ['--json', '--retries', '1']), env));
    const results = await Promise.all(runs.map((r) => r.done));
    resumeOutput = results.map((r) => r.stderr).join('\n');
    const ok = results.every((r) => r.code === 0);
    record('3 concurrent resumes', ok, results.map((r) => `exit ${r.code}: ${r.stderr.split('\n').slice(-3).join(' ')}`).join(' | '));
  }
  const final = defrost(box, runArgs(store, ['--json', '--retries', '1']), env);
  const verify = defrost(box, ['verify', '--store', store]);
  const diffs = compareFingerprints(reference, storeFingerprint(store));
  const leftovers = [
    ...entries(store, '.locks').filter((e) => e.endsWith('.lock')),
    ...entries(store, '.tmp'),
    ...entries(store, '.runs'),
    ...manifestlessDirs(store),
  ];
  const ok = final.code === 0 && verify.code === 0 && diffs.length === 0 && leftovers.length === 0;
  const detail = `final exit ${final.code}, verify exit ${verify.code}, ${diffs.length} differences (${diffs.slice(0, 3).join('; ')}), leftovers ${leftovers.join(',')}; ${final.stderr.split('\n').slice(-4).join(' ')}`;
  if (crash) record('worker crash (retried)', ok, detail);
  if (planted !== null) {
    const escapes = planted.after();
    const bad = poisoned(referenceStore, store);
    record('hostile: zero escapes outside the store', escapes.length === 0, `${planted.shape} (${planted.detail}): ${escapes.join('; ')}`);
    record('hostile: zero poisoned results', bad.length === 0, `${planted.shape} (${planted.detail}): ${bad.join(', ')}`);
    record(`hostile shape survived: ${planted.shape}`, ok && escapes.length === 0 && bad.length === 0, `${planted.detail}: ${detail}`);
  }
  // Detected and repaired by whichever resume ran first after the damage (the concurrent ones, or the final one).
  for (const c of pendingCorruption) record('corruption', ok && `${resumeOutput}${final.stderr}`.includes('damaged'), `${c}: ${detail}`);
  record('cycle ends equal to an uninterrupted run', ok, `${store}: ${detail}`);
  if (ok) rmSync(store, { recursive: true, force: true }); // a failed cycle's store is kept for a post-mortem
}

async function fuzzConfigs(): Promise<void> {
  const { loadConfig } = await import('../../pipeline/config-loader.js');
  // defrost's own project, in-process and through the CLI: the cases the CLI gets are rejected, so nothing trains.
  const project: AnyProject = defrostProject;
  const cliBox = sandbox({ DEFROST_PROJECT_MODULE: undefined });
  const bases = ['quick.yaml', 'default.yaml', 'fashion.yaml'].map((f) => readFileSync(join(ROOT, 'experiments', f), 'utf8'));
  const dir = join(box.dir, 'fuzz');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.yaml');
  const rejected: ReturnType<typeof hostileCases> = [];
  for (const c of hostileCases(bases, FUZZ_CONFIGS, 1234)) {
    writeFileSync(file, c.yaml);
    const t0 = performance.now();
    let ok = true;
    let detail = '';
    try {
      const { config } = loadConfig(project, file, c.sets);
      project.plan(config);
    } catch (error) {
      if (error instanceof ConfigError) ok = error.issues.every((i) => i.key.length > 0 && error.message.includes(i.key));
      else ok = error instanceof UsageError;
      detail = `${(error as Error).constructor.name}: ${(error as Error).message.slice(0, 200)}`;
      if (ok) rejected.push(c);
    }
    const ms = performance.now() - t0;
    record('hostile config, in-process', ok && ms < 5000, `case ${c.id} (${ms.toFixed(0)} ms): ${detail}`);
  }
  // Through the real CLI, two at a time: exit 2, "defrost: ..." message, no stack trace, no store.
  const cli = rejected.slice(0, CLI_CONFIGS);
  for (let i = 0; i < cli.length; i += 2) {
    await Promise.all(
      cli.slice(i, i + 2).map(async (c) => {
        const path = join(dir, `c${c.id}.yaml`);
        writeFileSync(path, c.yaml);
        const store = join(dir, `store-${c.id}`);
        const { done } = defrostAsync(cliBox, ['run', path, '--store', store, ...c.sets.flatMap((s) => ['--set', s])]);
        const r = await done;
        const ok = r.code === 2 && /^defrost: /m.test(r.stderr) && !/internal error|\n\s+at \S+ \(/.test(r.stderr) && !existsSync(store);
        record('hostile config, CLI', ok, `case ${c.id}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
      }),
    );
  }
  cliBox.cleanup();
}

async function main(): Promise<void> {
  const started = Date.now();
  const referenceStore = join(box.dir, 'reference');
  const ref = defrost(box, runArgs(referenceStore, ['--json']), { DEFROST_TOY_SLEEP_MS: '2' });
  if (ref.code !== 0) throw new Error(`the uninterrupted reference run failed:\n${ref.stderr}`);
  const reference = storeFingerprint(referenceStore);
  process.stderr.write(`reference: ${reference.size} instances (${lastJson(ref).executed} executed)\n`);
  for (let n = 1; n <= CYCLES; n++) {
    await cycle(n, reference, referenceStore);
    const t = tally.get('cycle ends equal to an uninterrupted run') as Tally;
    process.stderr.write(
      `cycle ${n}/${CYCLES}: ${t.survived}/${t.injected} equal to the reference, ${problems.length} problem(s), ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
  }
  await fuzzConfigs();
  const inputLines = INPUTS ? await hostileInputs(join(box.dir, 'inputs'), record) : [];

  const rows = [...tally].map(([kind, t]) => ({ kind, injected: t.injected, survived: t.survived }));
  const width = Math.max(...rows.map((r) => r.kind.length));
  process.stdout.write(
    `\nchaos: ${CYCLES} cycles of a ${reference.size}-instance sweep in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  process.stdout.write(`${'fault'.padEnd(width)}  injected  survived\n`);
  for (const r of rows)
    process.stdout.write(`${r.kind.padEnd(width)}  ${String(r.injected).padStart(8)}  ${String(r.survived).padStart(8)}\n`);
  if (inputLines.length > 0) process.stdout.write(`\nlarge or impossible inputs (targets: < 5 s, < 500 MB):\n${inputLines.join('\n')}\n`);
  for (const p of problems.slice(0, 20)) process.stdout.write(`NOT SURVIVED ${p}\n`);
  process.stdout.write(`${JSON.stringify({ cycles: CYCLES, instances: reference.size, faults: rows, problems: problems.length })}\n`);
  if (problems.length === 0) box.cleanup();
  else process.stdout.write(`stores of failed cycles kept under ${box.dir}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
