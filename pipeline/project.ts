/**
 * A project is what the engine runs: a config schema, a planner that expands a valid config into
 * stage instances, and the stages themselves. defrost's own project lives in `stages/project.ts`;
 * the engine's tests define small projects of their own with the same interface.
 */
import type { ZodType } from 'zod';
import type { AnyStage, Coords, InstanceSpec, JsonObject, JsonValue } from './stage.js';
import type { RunListing } from './run-records.js';

/** Facts about the compute runtime of a worker process, recorded in every manifest. */
export interface RuntimeInfo {
  /** The compute backend in use (`wasm-blas`, `wasm`, `cpu`, `tensorflow`, ...). */
  readonly backend: string;
  /** What the user should know about the runtime (a slow fallback and why), said once per run. */
  readonly notes: readonly string[];
  /**
   * What is expected and needs no action (an optional backend that is not installed): said only
   * with `--verbose`, so the normal path prints no line that reads like an error.
   */
  readonly details?: readonly string[];
  /** Library versions besides node's and the project's own (e.g. `{ tfjs: "4.22.0" }`). */
  readonly versions: Readonly<Record<string, string>>;
}

/** Cluster resources of one instance: cpus, memory like "4G", wall time like "01:00:00". */
export interface StageResources {
  readonly cpus: number;
  readonly mem: string;
  readonly time: string;
}

/** A problem with a config, found before anything runs. Exit code 2. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `transfer.depths[3]`. */
  readonly key: string;
  readonly value: unknown;
  /** What is allowed, in words: "an integer from 0 to 4 (the network has 4 hidden blocks)". */
  readonly allowed: string;
  /**
   * The value is the schema's default (the config does not set the key): the message says so and
   * where to set it, since the user never wrote the value it complains about. Set by the loader.
   */
  readonly defaulted?: boolean;
}

export interface Project<C> {
  readonly name: string;
  readonly version: string;
  /** Absolute directory holding the stages' TypeScript sources (the repository root): their fingerprints' closures. */
  readonly codeRoot: string;
  readonly stages: Readonly<Record<string, AnyStage>>;
  /** Validates and fills defaults. Unknown keys must be rejected (strict objects). */
  readonly configSchema: ZodType<C>;
  /** Cross-field checks that the schema alone cannot express (a depth beyond L, n > pool...). */
  check(config: C): ConfigIssue[];
  /** Expands a valid config into stage instances, in any order; the engine sorts them. */
  plan(config: C): InstanceSpec[];
  /**
   * Initialises the compute runtime once per worker process, before its first instance, with
   * the thread budget the engine assigned. Runs only in workers, never in the scheduler, so that
   * a fully cached run never pays for loading TensorFlow.js.
   */
  initRuntime(threads: number): Promise<RuntimeInfo>;
  /** The compute backends `initRuntime` can select, fastest first; `--backend` takes these or `auto`. */
  readonly backends: readonly string[];
  /**
   * What a cluster executor requests for one instance of `stage` under this config, defaults
   * filled in by the project (the one place they are written).
   */
  resources(config: C, stage: string): StageResources;
  /**
   * Optional: called by `run` in the scheduler process after the run, with every instance of the
   * plan and whether the run left it published (executed now or cached): the plan and its
   * outcomes come from the engine, so the project never re-reads plan records or parses ids. The
   * returned text (e.g. the l* table and the report path) is printed; null prints nothing. Keep
   * heavy imports inside it (dynamic import). `run` is the run's record (run-records.ts) when it
   * was written, for provenance in reports.
   */
  afterRun?(instances: ReadonlyArray<RunInstance>, run?: RunListing): Promise<string | null>;
  /**
   * Optional: the run's headline answer (see `RunAnswer`), stored in its run record for `runs
   * show` and `runs diff`. Same instances as `afterRun`; must stay light (read manifests, not
   * tables).
   */
  answer?(published: ReadonlyArray<PublishedRef>): Promise<RunAnswer | null>;
}

/** A run's headline answer, as its record keeps it. */
export interface RunAnswer {
  /** Flat label -> value pairs, e.g. `l*[rho=1,n=20,defrost]` -> 4. */
  readonly values: Record<string, JsonValue>;
  /**
   * For the values that are a choice among candidates (a depth), the candidates the data cannot
   * tell apart from it (its plausible set): `runs diff` says from them whether a changed value is
   * a significant change.
   */
  readonly plausible: Record<string, number[]>;
}

/** A published instance as `answer` sees it. */
export interface PublishedRef {
  readonly stage: string;
  readonly key: string;
  /** Absolute path of the instance directory. */
  readonly dir: string;
}

/** An instance of a run's plan and how the run left it, as `afterRun` sees it. */
export interface RunInstance extends PublishedRef {
  readonly id: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  /** Flat input name -> the input instance. */
  readonly inputs: Readonly<Record<string, { readonly id: string; readonly stage: string; readonly key: string }>>;
  /** Executed by the run or cached: its manifest is in the store. */
  readonly published: boolean;
}

/** Methods are bivariant in their parameters, so any `Project<C>` is an `AnyProject`. */
export type AnyProject = Project<unknown>;
