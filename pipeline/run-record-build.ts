/**
 * Assembles the record of a finished (or failed, or interrupted) `run` from what the run knows:
 * config, overrides, plan, outcomes, and the manifests of the instances it executed (for the
 * backend actually used), and writes it. Kept apart from `run.ts` so the command stays about
 * running; shared with the project's commands that execute their own plan (`recommend`), so
 * that every execution is recorded the same way (docs/engine.md#run-records).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { canonicalHash } from './hash.js';
import { MANIFEST_FILE } from './manifest.js';
import type { AnyProject, RunAnswer } from './project.js';
import { gitCommit } from './provenance.js';
import { resolveConfigPath } from './project-root.js';
import { writeRunRecord, type RunRecord } from './run-records.js';
import type { PlannedInstance } from './dag.js';
import type { ScheduleResult } from './scheduler.js';
import type { JsonObject } from './stage.js';
import type { Store } from './store.js';

export interface RunRecordInput {
  readonly project: AnyProject;
  /** The run's id, chosen when it started (`newRunId`): the running run is listed under it. */
  readonly id: string;
  /** The config path as given; for a command that plans without a config file, its command line. */
  readonly configFile: string;
  /** The absolute config path (default: `configFile` resolved); '' when there is no config file. */
  readonly configPath?: string;
  readonly overrides: readonly string[];
  readonly name: string | null;
  readonly date: Date;
  readonly config: unknown;
  readonly instances: readonly { stage: string; key: string }[];
  /** `stage/key` and directory of each instance this run executed. */
  readonly executedDirs: readonly { id: string; dir: string }[];
  readonly summary: {
    stages: number;
    executed: number;
    cached: number;
    failed: number;
    skipped: number;
    executed_by_stage: Record<string, number>;
    wall_s: number;
  };
  readonly status: RunRecord['status'];
  readonly executor: string;
  readonly jobs: number;
  readonly threads: number;
  readonly answer: RunAnswer | null;
}

/** The distinct backends recorded in the manifests of the executed instances, e.g. `wasm-blas`. */
function backendsOf(executed: readonly { dir: string }[]): string | null {
  const seen = new Set<string>();
  for (const { dir } of executed) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { backend?: unknown };
      if (typeof manifest.backend === 'string') seen.add(manifest.backend);
    } catch {
      // a manifest that cannot be read says nothing about the backend
    }
  }
  return seen.size === 0 ? null : [...seen].sort().join(', ');
}

export function buildRunRecord(input: RunRecordInput): RunRecord {
  const params = JSON.parse(JSON.stringify(input.config ?? {})) as JsonObject;
  return {
    id: input.id,
    name: input.name,
    date: input.date.toISOString(),
    config: input.configFile,
    config_path: input.configPath ?? resolve(resolveConfigPath(input.configFile)),
    overrides: [...input.overrides],
    config_hash: canonicalHash(params).slice(0, 16),
    params,
    version: input.project.version,
    commit: gitCommit(input.project.codeRoot),
    backend: backendsOf(input.executedDirs),
    executor: input.executor,
    jobs: input.jobs,
    threads: input.threads,
    status: input.status,
    stages: input.summary.stages,
    executed: input.summary.executed,
    cached: input.summary.cached,
    failed: input.summary.failed,
    skipped: input.summary.skipped,
    executed_by_stage: { ...input.summary.executed_by_stage },
    wall_s: input.summary.wall_s,
    answer: input.answer?.values ?? null,
    plausible: input.answer?.plausible ?? null,
    instances: input.instances.map((i) => `${i.stage}/${i.key}`),
    executed_instances: input.executedDirs.map((e) => e.id),
  };
}

/** What an executed plan leaves for its record (`executePlan` in cli/run.ts returns it). */
export interface ExecutedPlan {
  readonly result: ScheduleResult;
  readonly summary: RunRecordInput['summary'];
  readonly threads: number;
}

/** Everything of a record that the command knows, rather than the execution. */
export type RunRecordRequest = Omit<RunRecordInput, 'instances' | 'executedDirs' | 'summary' | 'status' | 'threads'>;

/**
 * Builds the record of an executed plan and writes it into the store. A store that refuses the
 * record is said on `human` and returns null: the results are published, only the record is lost.
 */
export function recordExecution(
  store: Store,
  instances: readonly PlannedInstance[],
  execution: ExecutedPlan,
  request: RunRecordRequest,
  human: (text: string) => void,
): RunRecord | null {
  const { result, summary } = execution;
  const record = buildRunRecord({
    ...request,
    instances,
    executedDirs: instances
      .filter((i) => result.outcomes.get(i.id)?.status === 'executed')
      .map((i) => ({ id: `${i.stage}/${i.key}`, dir: store.instanceDir(i.stage, i.key) })),
    summary,
    status: result.interrupted ? 'interrupted' : summary.failed > 0 ? 'failed' : 'finished',
    threads: execution.threads,
  });
  try {
    writeRunRecord(store.root, record);
    return record;
  } catch (error) {
    human(`could not write the run record: ${(error as Error).message}`);
    return null;
  }
}
