/**
 * The contract between the engine and the stages that plug into it (docs/architecture.md).
 *
 * The engine knows nothing about neural networks. A stage declares everything the engine and
 * its consumers need:
 * - `params`: a zod schema; the planner's params are checked against it by the compiler (its
 *   output type) and `defrost exec` validates the plan record against it before running;
 * - `inputs`: named inputs, each naming the stage(s) it comes from (`input(stage)` for one
 *   instance, `inputs(stageA, stageB)` for any number);
 * - `outputs`: named files of the instance directory (tables with their Arrow columns);
 *   consumers read an input's output by its declared name, `ctx.inputs.data.path('train')`;
 * - `module`: its module (`import.meta.url`), where the code fingerprint starts (see
 *   `fingerprint.ts`), unless the stage declares a `version`.
 * A project (see `project.ts`) plans instances with `PlanBuilder.add` (`plan-builder.ts`).
 */
import type { z } from 'zod';
import type { Memo } from './worker-memo.js';

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

/** One stage instance as a project plans it, before keys are computed (built by `PlanBuilder`). */
export interface InstanceSpec {
  /** Unique within one plan, readable: `transfer[correlation=0.9,n=50,mode=defrost,depth=2,seed=0]`. */
  readonly id: string;
  readonly stage: string;
  readonly coords: Coords;
  /** Exactly the params this instance reads; they enter its cache key. */
  readonly params: JsonObject;
  /**
   * Flat input name -> id of another spec in the same plan. Input keys enter the cache key. A
   * single input keeps its declared name; the members of a many-input `runs` are `runs/<id>`.
   */
  readonly inputs: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Outputs

/** One named output of a stage: a path inside the instance directory. */
export interface OutputDecl {
  readonly kind: 'table' | 'file' | 'dir';
  /** Path inside the instance directory, e.g. `train.arrow` or `model` (a directory). */
  readonly file: string;
  /** Written only under some params (e.g. `model/` of a transfer run); else always written. */
  readonly optional: boolean;
  /**
   * Tables: every column, name -> Arrow type as apache-arrow prints it (`Float64`, `Int32`,
   * `Utf8`...; a fixed-size list without its width, `FixedSizeList<Float32>`, matches any width).
   */
  readonly columns?: Readonly<Record<string, string>>;
}
export type OutputDecls = Readonly<Record<string, OutputDecl>>;

/** An Arrow IPC table with all its columns (name -> Arrow type); the engine checks them on publish. */
export function table(file: string, columns: Readonly<Record<string, string>>, options: { optional?: boolean } = {}): OutputDecl {
  return { kind: 'table', file, columns, optional: options.optional ?? false };
}

/** A single file of any format. */
export function file(path: string, options: { optional?: boolean } = {}): OutputDecl {
  return { kind: 'file', file: path, optional: options.optional ?? false };
}

/** A directory (e.g. a TensorFlow.js model: model.json + weights). */
export function directory(path: string, options: { optional?: boolean } = {}): OutputDecl {
  return { kind: 'dir', file: path, optional: options.optional ?? false };
}

// ---------------------------------------------------------------------------------------------
// Inputs

/**
 * A named input: the stages its instances come from and whether it takes one instance or any
 * number. `O` (type only) is the producers' outputs, so `path(name)` is checked by the compiler.
 */
export interface InputDecl<N extends string = string, O extends OutputDecls = OutputDecls, M extends boolean = boolean> {
  readonly stages: readonly N[];
  /** Each producer's declared outputs (what `path(name)` resolves against). */
  readonly producers: Readonly<Record<string, OutputDecls>>;
  readonly many: M;
  /** Type-level only: never set. */
  readonly outputs?: O;
}
export type InputDecls = Readonly<Record<string, InputDecl>>;

/** What `input(...)`/`inputs(...)` need from a producer stage. */
interface Producer<N extends string, O extends OutputDecls> {
  readonly name: N;
  readonly outputs: O;
}

/**
 * An input of exactly one instance of `stage`, or of one of several stages that declare the
 * outputs the consumer reads (a transfer's source network: `train-source` or `import-source`);
 * `path(name)` then accepts the outputs they have in common.
 */
export function input<P extends Producer<string, OutputDecls>[]>(...stages: P): InputDecl<P[number]['name'], P[number]['outputs'], false> {
  return { stages: stages.map((s) => s.name), producers: Object.fromEntries(stages.map((s) => [s.name, s.outputs])), many: false };
}

/** An input of any number of instances of the given stages (e.g. everything `aggregate` reads). */
export function inputs<P extends Producer<string, OutputDecls>[]>(...stages: P): InputDecl<P[number]['name'], P[number]['outputs'], true> {
  return { stages: stages.map((s) => s.name), producers: Object.fromEntries(stages.map((s) => [s.name, s.outputs])), many: true };
}

/** A published input artifact, as a running stage sees it. */
export interface InputArtifact<O extends OutputDecls = OutputDecls> {
  /** The input's declared name (a many-input's members share it). */
  readonly name: string;
  /** Readable instance id of the input (`train-scratch[correlation=1,n=50,seed=0]`). */
  readonly id: string;
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
  /** Absolute path of one of the producer's declared outputs. */
  path(output: keyof O & string): string;
  /**
   * The content digest of one of the producer's outputs, `sha256:<hex>`: of the file, or of a
   * directory's files (their paths and sha256s). From the input's manifest, whose files `exec`
   * verified before the instance ran: what the worker memo keys on (worker-memo.ts).
   */
  digest(output: keyof O & string): string;
}

type ArtifactOf<D> = D extends InputDecl<string, infer O, boolean> ? InputArtifact<O> : InputArtifact;
type ManyOf<D> = D extends { readonly many: infer M } ? M : boolean;

/** `ctx.inputs` of a stage: one artifact per single input, an array per many-input. */
export type InputsOf<I extends InputDecls> = {
  readonly [K in keyof I]: ManyOf<I[K]> extends true
    ? readonly ArtifactOf<I[K]>[]
    : ManyOf<I[K]> extends false
      ? ArtifactOf<I[K]>
      : ArtifactOf<I[K]> | readonly ArtifactOf<I[K]>[];
};

// ---------------------------------------------------------------------------------------------
// Running

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

export interface StageContext<P = JsonObject, I extends InputDecls = InputDecls, O extends OutputDecls = OutputDecls> {
  readonly stage: string;
  readonly key: string;
  /** The instance's params, validated against the stage's schema. */
  readonly params: P;
  readonly coords: Coords;
  readonly inputs: InputsOf<I>;
  /**
   * Where outputs go: a fresh temporary directory on the store's filesystem. The engine fsyncs,
   * hashes and publishes everything in it once `run` resolves; a rejected `run` publishes nothing.
   */
  readonly outDir: string;
  /** Absolute path (in `outDir`) of one of this stage's declared outputs. */
  output(name: keyof O & string): string;
  /** Threads this instance may use for compute (BLAS, wasm); set by the engine from --jobs. */
  readonly threads: number;
  /** Append a line to the instance's log (kept in the store). */
  log(line: string): void;
  progress(update: ProgressUpdate): void;
  /** Aborted when the run is interrupted; long loops should check it between steps. */
  readonly signal: AbortSignal;
  /**
   * Values made from inputs' bytes, kept for the later instances of this process, keyed by the
   * inputs' digests (worker-memo.ts). Never change a value it gives.
   */
  readonly memo: Memo;
}

/** What a stage returns; recorded in the manifest. Output files are checked against `outputs`. */
export interface StageOutcome {
  /** Small, human-readable results (e.g. test accuracy), stored in `manifest.summary`. */
  readonly summary?: JsonObject;
}

/** A params schema whose parsed values are JSON (they are hashed and stored in manifests). */
export type ParamsSchema = z.ZodType<JsonObject>;

/**
 * A stage's declared summary: the schema of what `run` returns as `summary`. The engine checks
 * the summary against it before publishing, and consumers parse an input's `summary` with it, so
 * results that travel in manifests are typed at both ends.
 */
export type SummarySchema = z.ZodType<JsonObject>;

export interface Stage<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls> {
  readonly name: N;
  /** One line for `--help`, `dag` and `status`. */
  readonly description: string;
  /**
   * The stage's module: `import.meta.url` of the module that defines it, or a path relative to
   * the project's code root. What the stage can run from it inside the project, plus the
   * versions of the npm packages that imports, is the stage's code fingerprint (`fingerprint.ts`).
   */
  readonly module: string;
  /**
   * Set only when the code fingerprint cannot see what the stage's results depend on (docs/
   * architecture.md, "When analysis cannot see: `version`"): it then replaces the code
   * fingerprint, so code edits no longer re-run the stage and changing the version (e.g.
   * `'2'` -> `'3'`) re-runs it and everything downstream once.
   */
  readonly version?: string;
  readonly params: S;
  readonly inputs: I;
  readonly outputs: O;
  /** The summary's schema, when consumers read it (optional: a summary for people only needs none). */
  readonly summary?: SummarySchema;
  run(ctx: StageContext<z.output<S>, I, O>): Promise<StageOutcome>;
}

/** The context a stage with these declarations runs with (for job modules that do the work). */
export type ContextOf<D extends { readonly params: ParamsSchema; readonly inputs: InputDecls; readonly outputs: OutputDecls }> =
  StageContext<z.output<D['params']>, D['inputs'], D['outputs']>;

/** A stage as the engine stores it: any name, params, inputs and outputs. */
export type AnyStage = Stage<string, ParamsSchema, InputDecls, OutputDecls>;

/** Declares a stage; the identity function, there for inference of the four type parameters. */
export function defineStage<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls>(
  stage: Stage<N, S, I, O>,
): Stage<N, S, I, O> {
  return stage;
}
