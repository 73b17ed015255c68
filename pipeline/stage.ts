/**
 * The contract between the engine and the stages that plug into it.
 *
 * The engine knows nothing about neural networks. A stage is a typed unit that declares the
 * source files its behaviour depends on (for the code fingerprint) and a `run` function; a
 * project (see `project.ts`) turns a validated config into `InstanceSpec`s — one per stage
 * instance — naming the params each instance reads and the instances it takes as input.
 * The engine keys, caches, schedules and publishes those instances.
 */

/** A JSON value: everything params, coordinates and manifests are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Coordinates place an instance in its sweep (correlation, n, mode, depth, seed, role...). They
 * are derived from the params, so they do not enter the cache key on their own; they let
 * `status` find "the previous instance at the same place" to explain why a key changed, and let
 * `aggregate` label rows without re-deriving them.
 */
export type Coords = Record<string, string | number | null>;

/** One stage instance as a project plans it, before keys are computed. */
export interface InstanceSpec {
  /** Unique within one plan, readable: `transfer[correlation=0.9,n=50,mode=defrost,depth=2,seed=0]`. */
  readonly id: string;
  readonly stage: string;
  readonly coords: Coords;
  /** Exactly the params this instance reads; they enter its cache key. */
  readonly params: JsonObject;
  /** Input name -> id of another spec in the same plan. Input keys enter the cache key. */
  readonly inputs: Readonly<Record<string, string>>;
}

/** A published input artifact, as a running stage sees it. */
export interface InputArtifact {
  readonly name: string;
  readonly stage: string;
  readonly key: string;
  /** Absolute path of the published instance directory. */
  readonly dir: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  /** The stage-reported summary stored in the input's manifest (see `StageOutcome.summary`). */
  readonly summary: JsonObject;
  /** Seconds the input instance took to compute (from its manifest). */
  readonly durationSeconds: number;
}

/** Live progress a running instance reports; shown by the scheduler's view. */
export interface ProgressUpdate {
  readonly epoch?: number;
  readonly epochs?: number;
  readonly step?: number;
  readonly steps?: number;
  readonly loss?: number;
  /** Free text, e.g. "block 3/4". */
  readonly message?: string;
}

export interface StageContext<P extends JsonObject = JsonObject> {
  readonly stage: string;
  readonly key: string;
  readonly params: P;
  readonly coords: Coords;
  readonly inputs: Readonly<Record<string, InputArtifact>>;
  /**
   * Where outputs go: a fresh temporary directory on the store's filesystem. The engine fsyncs,
   * hashes and publishes everything in it once `run` resolves; a rejected `run` publishes nothing.
   */
  readonly outDir: string;
  /** Threads this instance may use for compute (BLAS, wasm); set by the engine from --jobs. */
  readonly threads: number;
  /** Append a line to the instance's log (kept in the store). */
  log(line: string): void;
  progress(update: ProgressUpdate): void;
  /** Aborted when the run is interrupted; long loops should check it between steps. */
  readonly signal: AbortSignal;
}

/** What a stage returns; recorded in the manifest. Output files are discovered in `outDir`. */
export interface StageOutcome {
  /** Small, human-readable results (e.g. test accuracy), stored in `manifest.summary`. */
  readonly summary?: JsonObject;
}

export interface StageDefinition<P extends JsonObject = JsonObject> {
  readonly name: string;
  /** One line for `--help`, `dag` and `status`. */
  readonly description: string;
  /**
   * Globs (relative to the project's code root) of the source files whose bytes make up this
   * stage's code fingerprint: the stage module and the shared science it uses. Editing any
   * matched file re-runs the stage; editing anything else does not.
   */
  readonly code: readonly string[];
  run(ctx: StageContext<P>): Promise<StageOutcome>;
}

/**
 * A stage as the engine stores it, with its param type erased. `StageDefinition<P>` is assignable
 * to this through `defineStage`, which keeps each stage module strictly typed.
 */
export type AnyStage = StageDefinition<JsonObject>;

/** Declares a stage with typed params. The engine hands `run` the params the plan gave it. */
export function defineStage<P extends JsonObject>(stage: StageDefinition<P>): AnyStage {
  return stage as unknown as AnyStage;
}
