/**
 * `defrost run [CONFIG]`: validate, plan, key, then compute what is not cached.
 *
 * Nothing touches the store before the config validates. With `--json`, the last line of
 * stdout is the run summary object (docs/engine.md) (plus `skipped` and `failures`) and all human output goes to
 * stderr. SIGINT/SIGTERM stop the run within seconds: workers are killed before they can publish,
 * their locks released, and what finished is reported (exit 130/143).
 */
import type { Command } from 'commander';
import { registerActiveRun, runningRuns, type RunIdentity } from '../active-runs.js';
import { cleanupLeftovers } from '../cleanup.js';
import { StoreError, UsageError } from '../errors.js';
import { unknownName } from '../nearest-name.js';
import { resolveConfigPath } from '../project-root.js';
import { createExecutor, EXECUTORS, isExecutorName, type ExecutorOptions } from '../executors/registry.js';
import { ProgressView, formatSeconds } from '../progress.js';
import { wrapWords } from '../terminal-width.js';
import { findCached, schedule, type InstanceOutcome } from '../scheduler.js';
import {
  DEFAULT_CONFIG,
  act,
  addSetOption,
  addStoreOption,
  collect,
  parseBackend,
  parseJobs,
  storeFrom,
  threadsPerJob,
  type CliContext,
} from './context.js';
import { countByStage, planConfig } from './plan.js';
import { loadConfig } from '../config-loader.js';
import type { PlannedInstance } from '../dag.js';
import type { ScheduleResult } from '../scheduler.js';
import type { Store } from '../store.js';
import type { RunAnswer } from '../project.js';
import { checkNameFree, checkRunName, listingOf, newRunId, readRunRecords, recordedLine } from '../run-records.js';
import { recordExecution } from '../run-record-build.js';

interface RunOptions {
  set: string[];
  store?: string;
  jobs?: string;
  dryRun?: boolean;
  force: string[];
  json?: boolean;
  backend?: string;
  executor: string;
  slurmArgs?: string;
  group?: string;
  retries?: string;
  name?: string;
  verbose?: boolean;
}

/** The run summary object (docs/engine.md). */
export interface RunSummary {
  stages: number;
  executed: number;
  cached: number;
  failed: number;
  executed_by_stage: Record<string, number>;
  wall_s: number;
  skipped: number;
  interrupted: number;
  failures: { id: string; stage: string; key: string; reason: string; log: string | null }[];
}

export function registerRunCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('run')
    .argument('[config]', 'experiment config (YAML)', DEFAULT_CONFIG)
    .description('run every stage instance of a config that is not cached')
    .option('--jobs <n>', 'instances at a time (default: number of cores)')
    .option('--dry-run', 'print what would execute; touch nothing')
    .option('--force <stage>', 'recompute the instances of STAGE even if cached (repeatable)', collect, [])
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .option('--name <name>', 'name this run in its record (see `defrost runs`)')
    .option('--backend <backend>', 'compute backend: auto|tensorflow|wasm-blas|wasm|cpu (sets DEFROST_BACKEND)')
    .option('--verbose', 'also say why faster compute backends were not used')
    .option('--executor <name>', 'where instances run: local|slurm', 'local')
    .option('--retries <n>', 'dispatch a failed instance up to N more times (crashed workers, flaky nodes)', '0')
    .option('--slurm-args <args>', 'slurm: extra sbatch arguments, e.g. "--partition=short --account=lab"')
    .option('--group <n>', 'slurm: run up to N ready instances of one stage in one job (default 1)');
  addSetOption(cmd);
  addStoreOption(cmd);
  cmd.action(act(ctx, (config: string, options: RunOptions) => runCommand(ctx, config, options)));
}

async function runCommand(ctx: CliContext, configFile: string, options: RunOptions): Promise<number> {
  const wallStart = performance.now();
  const startDate = new Date();
  const name = options.name === undefined ? null : checkRunName(options.name);
  const human = options.json ? ctx.err : ctx.out;
  const project = await ctx.project();
  const jobs = parseJobs(options.jobs);
  const retries = Number(options.retries ?? '0');
  if (!Number.isInteger(retries) || retries < 0)
    throw new UsageError(`--retries: got ${JSON.stringify(options.retries)}; allowed: a whole number >= 0`);
  const backend = parseBackend(options.backend, project.backends);
  if (!isExecutorName(options.executor)) throw unknownName('--executor', options.executor, EXECUTORS);

  const { config: resolvedConfig } = loadConfig(project, configFile, options.set);
  const instances = planConfig(project, configFile, options.set);
  // The stages this plan has: forcing another stage of the project would do nothing.
  const planned = [...new Set(instances.map((i) => i.stage))];
  for (const stage of options.force) if (!planned.includes(stage)) throw unknownName('--force', stage, planned);
  const store = storeFrom(options, [resolveConfigPath(configFile)]);
  const force = new Set(options.force);

  if (options.dryRun) {
    const cached = findCached(store, instances);
    const todo = instances.filter((i) => !cached.has(i.id) || force.has(i.stage));
    human(`${instances.length} instances: ${instances.length - todo.length} cached, ${todo.length} would execute`);
    for (const [stage, n] of Object.entries(countByStage(todo))) {
      human(`  ${stage}: ${n}`);
      for (const inst of todo.filter((i) => i.stage === stage)) human(`    ${inst.id} ${inst.key}`);
    }
    if (options.json)
      ctx.out(
        JSON.stringify({
          stages: instances.length,
          executed: 0,
          cached: instances.length - todo.length,
          failed: 0,
          executed_by_stage: {},
          would_execute_by_stage: countByStage(todo),
          dry_run: true,
          wall_s: round((performance.now() - wallStart) / 1000),
        }),
      );
    return 0;
  }

  const run: RunIdentity = {
    id: newRunId(startDate),
    name,
    date: startDate.toISOString(),
    config: configFile,
    overrides: [...options.set],
  };
  if (name !== null) checkNameFree(name, readRunRecords(store.root).records, runningRuns(store));
  const execution = await executePlan(ctx, instances, {
    store,
    run,
    jobs,
    backend,
    force,
    retries,
    human,
    json: options.json === true,
    verbose: options.verbose === true,
    executor: options.executor,
    slurmArgs: options.slurmArgs,
    group: options.group === undefined ? undefined : parseGroup(options.group),
    // Cluster executors size each stage's jobs with what the project says (the config's `resources`).
    resources: (stage) => project.resources(resolvedConfig, stage),
    wallStart,
  });
  const { result, summary } = execution;

  const published = instances
    .filter((i) => {
      const s = result.outcomes.get(i.id)?.status;
      return s === 'cached' || s === 'executed';
    })
    .map((i) => ({ stage: i.stage, key: i.key, dir: store.instanceDir(i.stage, i.key) }));
  let answer: RunAnswer | null = null;
  if (project.answer && !result.interrupted) {
    try {
      answer = await project.answer(published);
    } catch {
      answer = null; // the record still says what ran; the answer is a convenience
    }
  }
  const record = recordExecution(
    store,
    instances,
    execution,
    {
      project,
      id: run.id,
      configFile,
      overrides: options.set,
      name,
      date: startDate,
      config: resolvedConfig,
      executor: options.executor,
      jobs,
      answer,
    },
    human,
  );
  if (project.afterRun && !result.interrupted) {
    try {
      // The run's provenance goes with it, for the report's footer.
      const runInstances = instances.map((i) => {
        const status = result.outcomes.get(i.id)?.status;
        return {
          id: i.id,
          stage: i.stage,
          key: i.key,
          dir: store.instanceDir(i.stage, i.key),
          coords: i.coords,
          params: i.params,
          inputs: i.inputs,
          published: status === 'cached' || status === 'executed',
        };
      });
      const text = await project.afterRun(runInstances, record ? listingOf(record) : undefined);
      if (text) human(text);
    } catch (error) {
      human(`after-run report failed: ${(error as Error).message}`);
    }
  }
  if (record) human(recordedLine(record));
  if (options.json) ctx.out(JSON.stringify({ ...summary, run: record?.id ?? null }));
  execution.release();
  return execution.exitCode;
}

/** How `executePlan` runs a keyed plan. */
export interface ExecuteOptions {
  readonly store: Store;
  /** The run being executed, listed by `defrost runs` while it works. */
  readonly run: RunIdentity;
  readonly jobs: number;
  readonly backend?: string;
  readonly force: ReadonlySet<string>;
  readonly retries: number;
  /** Human output (stderr when the command prints JSON). */
  readonly human: (text: string) => void;
  /** Progress goes to stderr (stdout is for the JSON line). */
  readonly json: boolean;
  /** Also say what needs no action (e.g. an optional compute backend that is not installed). */
  readonly verbose?: boolean;
  readonly executor: string;
  readonly slurmArgs?: string;
  readonly group?: number;
  /** What one instance of a stage needs on a cluster executor (Slurm). */
  readonly resources: ExecutorOptions['resources'];
  /** performance.now() when the command started, for wall_s. */
  readonly wallStart: number;
}

/** What `executePlan` did; `release()` detaches its signal handlers once the command is done. */
export interface Execution {
  readonly result: ScheduleResult;
  readonly summary: RunSummary;
  readonly threads: number;
  readonly exitCode: number;
  release(): void;
}

/**
 * Runs what is not cached of a keyed plan: plan records, leftovers, the executor, SIGINT/SIGTERM
 * (a signal after scheduling exits at once with 130/143 until `release()`), the summary. Shared by
 * `run` and the project's commands that plan their own instances (`recommend`).
 */
export async function executePlan(ctx: CliContext, instances: readonly PlannedInstance[], options: ExecuteOptions): Promise<Execution> {
  const { store, jobs, backend, force, retries, human, wallStart } = options;
  const rewritten = storeWrite(store.root, () => {
    // Only in a marked store (created now if new or empty; an older defrost's store adopted).
    store.ensureMarked(human);
    // A plan record that does not hash to its key (edited, truncated) is replaced, never obeyed.
    return instances.filter((inst) => store.writePlanRecord(inst));
  });
  for (const inst of rewritten) human(`plan record of ${inst.id} ${inst.key} was damaged or edited; rewritten from the config`);
  const cachedAtStart = findCached(store, instances);
  const needsWork = instances.some((i) => !cachedAtStart.has(i.id) || force.has(i.stage));
  // Staging dirs and temp files of killed runs are removed by every run; leftover instance dirs
  // (a scan of every manifest) only when there is work to do.
  const { removed, quarantined } = storeWrite(store.root, () => cleanupLeftovers(store, { leftovers: needsWork }));
  if (removed.length > 0) human(`removed ${removed.length} unfinished leftover(s) of earlier runs`);
  for (const q of quarantined) human(`moved ${q.from} to ${q.to}: ${q.reason}`);

  const env: Record<string, string> = backend ? { DEFROST_BACKEND: backend } : {};
  const threads = threadsPerJob(jobs);
  const executor = await createExecutor(options.executor, {
    jobs,
    threads,
    store: store.root,
    projectModule: ctx.projectModule,
    env,
    slurmArgs: options.slurmArgs,
    group: options.group,
    resources: options.resources,
  });

  const view = new ProgressView(options.json ? process.stderr : process.stdout, { verbose: options.verbose === true });
  view.setPlan(instances);
  const controller = new AbortController();
  let signalName: NodeJS.Signals | null = null;
  let scheduled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalName) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: leave now
    // After scheduling everything is published or failed already; only the summary and the
    // after-run report are left, so stop at once (the default handler would, but untidily).
    if (scheduled) {
      human(`\n${sig}: stopping; every finished instance is published`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    signalName = sig;
    human(`\n${sig}: stopping (workers are killed; nothing partial is published)...`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // While it works, this run's plan protects every instance it may read from `gc`.
  const active = storeWrite(store.root, () => registerActiveRun(store, instances, 'run', options.run));
  let result;
  try {
    result = await schedule({
      instances,
      store,
      executor,
      threads,
      force,
      events: view,
      signal: controller.signal,
      retries,
      published: cachedAtStart,
    });
    if (!result.interrupted) await executor.shutdown('done');
  } finally {
    scheduled = true;
    active.end();
    view.close();
  }

  const summary = summarise(instances, result.outcomes, store, (performance.now() - wallStart) / 1000);
  printSummary(human, summary, result.interrupted);

  const exitCode = result.interrupted ? (signalName === 'SIGTERM' ? 143 : 130) : summary.failed > 0 ? 1 : 0;
  return {
    result,
    summary,
    threads,
    exitCode,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Runs the scheduler's own store writes; a full disk or a read-only store is a clear error (exit 1). */
function storeWrite<T>(root: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES')
      throw new StoreError(`cannot write to the store ${root}: ${(error as Error).message}; nothing was run`);
    throw error;
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function summarise(
  instances: readonly { id: string; stage: string; key: string }[],
  outcomes: ReadonlyMap<string, InstanceOutcome>,
  store: { logPath(stage: string, key: string): string },
  wall: number,
): RunSummary {
  const s: RunSummary = {
    stages: instances.length,
    executed: 0,
    cached: 0,
    failed: 0,
    executed_by_stage: {},
    wall_s: round(wall),
    skipped: 0,
    interrupted: 0,
    failures: [],
  };
  for (const inst of instances) {
    const o = outcomes.get(inst.id);
    switch (o?.status) {
      case 'executed':
        s.executed++;
        s.executed_by_stage[inst.stage] = (s.executed_by_stage[inst.stage] ?? 0) + 1;
        break;
      case 'cached':
        s.cached++;
        break;
      case 'failed':
        s.failed++;
        s.failures.push({ id: inst.id, stage: inst.stage, key: inst.key, reason: o.reason, log: o.logPath ?? null });
        break;
      case 'skipped':
        s.skipped++;
        break;
      default:
        s.interrupted++;
    }
  }
  void store;
  return s;
}

function printSummary(human: (t: string) => void, s: RunSummary, interrupted: boolean): void {
  const byStage = Object.entries(s.executed_by_stage)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const line =
    `${interrupted ? 'interrupted' : 'finished'}: ${s.stages} instances, executed ${s.executed}${byStage ? ` (${byStage})` : ''}, ` +
    `cached ${s.cached}, failed ${s.failed}${s.skipped ? `, skipped ${s.skipped}` : ''}` +
    `${s.interrupted ? `, not finished ${s.interrupted}` : ''} in ${formatSeconds(s.wall_s)}`;
  human(wrapWords(line, '', '  ').join('\n'));
  for (const f of s.failures) human(`  FAILED ${f.id} (${f.stage} ${f.key}): ${f.reason}${f.log ? `\n    log: ${f.log}` : ''}`);
  if (s.skipped) human(`  ${s.skipped} instance(s) skipped because an upstream instance failed`);
}

/** `--group N`: a whole number >= 1 of instances per Slurm job. */
function parseGroup(text: string): number {
  const group = Number(text);
  if (!Number.isInteger(group) || group < 1) throw new UsageError(`--group: got ${JSON.stringify(text)}; allowed: a whole number >= 1`);
  return group;
}
