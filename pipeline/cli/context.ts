/**
 * What every engine command needs: the project (loaded lazily, so commands that do not need it
 * never import the stages), where output goes, and the shared option helpers.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { unknownName } from '../nearest-name.js';
import { loadProjectModule } from '../project-module.js';
import type { AnyProject } from '../project.js';
import { Store, resolveStoreRoot } from '../store.js';

export interface CliContext {
  /** URL of the project module; workers import the same one. */
  readonly projectModule: string;
  project(): Promise<AnyProject>;
  /** Machine-readable output (stdout). */
  out(text: string): void;
  /** Human output; stderr when a command prints JSON on stdout. */
  err(text: string): void;
  /** Set by the command that ran; main() returns it. */
  exitCode: number;
}

/** Wraps a command handler returning an exit code as a commander action. */
export function act<A extends unknown[]>(ctx: CliContext, handler: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = await handler(...args);
  };
}

export function createContext(projectModule: string): CliContext {
  let loaded: Promise<AnyProject> | null = null;
  return {
    projectModule,
    project: () => (loaded ??= loadProjectModule(projectModule)),
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    exitCode: 0,
  };
}

export const DEFAULT_CONFIG = 'experiments/default.yaml';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addStoreOption(cmd: Command): Command {
  return cmd.option(
    '--store <dir>',
    'artifact store (default: $DEFROST_STORE, else artifacts/ in the project root: the nearest directory up holding artifacts/ or experiments/)',
  );
}

export function addSetOption(cmd: Command, description = 'override a config key, e.g. task.target_sizes=[20,100] (repeatable)'): Command {
  return cmd.option('--set <key=value>', description, collect, []);
}

/** The store of a command; `inputs` are the files it was given, for finding the project root. */
export function storeFrom(options: { store?: string }, inputs: readonly string[] = []): Store {
  return new Store(resolveStoreRoot(options.store, inputs));
}

/**
 * Options a command requires, checked when its action runs rather than by commander, which would
 * report a missing option before a misspelt one (`--dat` for `--data`) and so never suggest the
 * nearest name. `flags` names each as the help shows it (there marked `(required)`).
 */
export function requireOptions<T, K extends keyof T>(options: T, flags: Record<K, string>): T & Required<Pick<T, K>> {
  for (const [key, flag] of Object.entries(flags) as [K, string][])
    if (options[key] === undefined) throw new UsageError(`required option '${flag}' not specified (add --help for usage)`);
  return options as T & Required<Pick<T, K>>;
}

export function parseJobs(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs: got ${JSON.stringify(value)}; allowed: a whole number >= 1`);
  return n;
}

/** `--backend`: `auto` or one of the project's backends (`Project.backends`, the one list). */
export function parseBackend(value: string | undefined, backends: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  const allowed = ['auto', ...backends];
  if (!allowed.includes(value)) throw unknownName('--backend', value, allowed);
  return value;
}

/**
 * Threads per worker: `DEFROST_THREADS` when set (docs/backends.md: it overrides the split, and
 * `make bench` relies on it for its one-thread comparison), else max(1, floor(cores / jobs)).
 * The executor hands this to every worker as its DEFROST_THREADS, so reading the variable here
 * is what makes the override reach the workers at all.
 */
export function threadsPerJob(jobs: number): number {
  const fromEnv = process.env.DEFROST_THREADS;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const threads = Number(fromEnv);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError(`DEFROST_THREADS: got ${JSON.stringify(fromEnv)}; allowed: a positive integer`);
    }
    return threads;
  }
  return Math.max(1, Math.floor(availableParallelism() / jobs));
}
