/**
 * Executors by name, for `--executor`. Each entry loads its module lazily (the scheduler's
 * import graph stays light); every executor module exports `createExecutor(options)`. A new
 * executor is one module and one line here.
 */
import { UsageError } from '../errors.js';
import type { Executor } from '../executor.js';
import type { StageResources } from '../project.js';

export interface ExecutorOptions {
  /** Instances at a time (`--jobs`). */
  readonly jobs: number;
  /** Compute threads per instance. */
  readonly threads: number;
  /** Absolute store directory. */
  readonly store: string;
  /** URL of the project module (workers import it). */
  readonly projectModule: string;
  /** Extra environment for whatever runs the instances (DEFROST_BACKEND...). */
  readonly env: Readonly<Record<string, string>>;
  /** What one instance of a stage needs on a cluster (the project's `resources`, defaults filled). */
  readonly resources: (stage: string) => StageResources;
  /** Slurm only: `--slurm-args` and `--group`. */
  readonly slurmArgs?: string;
  readonly group?: number;
}

/** What every executor module exports. */
export interface ExecutorModule {
  createExecutor(options: ExecutorOptions): Promise<Executor>;
}

const REGISTRY = {
  local: (): Promise<ExecutorModule> => import('./local.js'),
  slurm: (): Promise<ExecutorModule> => import('./slurm-config.js'),
} as const;

export type ExecutorName = keyof typeof REGISTRY;
export const EXECUTORS = Object.keys(REGISTRY) as readonly ExecutorName[];

export function isExecutorName(name: string): name is ExecutorName {
  return Object.hasOwn(REGISTRY, name);
}

export async function createExecutor(name: string, options: ExecutorOptions): Promise<Executor> {
  if (!isExecutorName(name)) throw new UsageError(`--executor: got ${JSON.stringify(name)}; allowed: ${EXECUTORS.join(', ')}`);
  return (await REGISTRY[name]()).createExecutor(options);
}
