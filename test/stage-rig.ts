/**
 * The shared test rig for stages: builds the context a stage runs with, the way `exec` does
 * (params validated against the stage's schema, inputs resolved against their producers'
 * declared outputs, outputs checked against the stage's declaration after `run`), from plain
 * directories instead of a store. `runStage(stage, { params, inputs })` is the one-liner.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { listOutputFiles } from '../pipeline/output-files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { checkOutputs, checkSummary, outputDigest, outputPath } from '../pipeline/outputs.js';
import { NO_MEMO, type Memo } from '../pipeline/worker-memo.js';
import type {
  Coords,
  InputArtifact,
  InputDecls,
  InputsOf,
  JsonObject,
  OutputDecls,
  ParamsSchema,
  ProgressUpdate,
  Stage,
  StageContext,
  StageOutcome,
} from '../pipeline/stage.js';

/** A test input: the instance directory, and optionally what its manifest would say. */
export interface RigInput {
  readonly dir: string;
  readonly stage?: string;
  readonly id?: string;
  readonly key?: string;
  readonly coords?: Coords;
  readonly params?: JsonObject;
  readonly summary?: JsonObject;
  readonly durationSeconds?: number;
}

export type RigInputs<I extends InputDecls> = { readonly [K in keyof I]: I[K]['many'] extends true ? readonly RigInput[] : RigInput };

export interface RigOptions<S extends ParamsSchema, I extends InputDecls> {
  /** The params as a planner would give them (parsed with the stage's schema, as `exec` does). */
  readonly params: z.input<S>;
  readonly inputs: RigInputs<I>;
  /** Default: a fresh temporary directory. */
  readonly outDir?: string;
  readonly coords?: Coords;
  readonly key?: string;
  readonly threads?: number;
  readonly signal?: AbortSignal;
  /** Default: a memo that keeps nothing (each test makes its values afresh). */
  readonly memo?: Memo;
}

/** A fresh temporary directory for a test (one prefix for every test's scratch space). */
export function scratchDir(label = 'test'): string {
  return mkdtempSync(join(tmpdir(), `defrost-${label}-`));
}

/** Every file under `dir` with its sha256, as a manifest lists them (what a rigged input's digest reads). */
function filesOf(dir: string): { path: string; sha256: string }[] {
  return listOutputFiles(dir).map((path) => ({
    path,
    sha256: createHash('sha256')
      .update(readFileSync(join(dir, path)))
      .digest('hex'),
  }));
}

export interface Rigged<P, I extends InputDecls, O extends OutputDecls> {
  readonly ctx: StageContext<P, I, O>;
  readonly outDir: string;
  readonly lines: string[];
  readonly progress: ProgressUpdate[];
}

export function stageContext<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls>(
  stage: Stage<N, S, I, O>,
  options: RigOptions<S, I>,
): Rigged<z.output<S>, I, O> {
  const outDir = options.outDir ?? scratchDir('stage-out');
  mkdirSync(outDir, { recursive: true });
  const lines: string[] = [];
  const progress: ProgressUpdate[] = [];
  const artifact = (name: string, given: RigInput): InputArtifact => {
    const decl = stage.inputs[name];
    const producer = given.stage ?? decl.stages[0];
    const outputs = decl.producers[producer] ?? {};
    return {
      name,
      id: given.id ?? `${producer}[${name}]`,
      stage: producer,
      key: given.key ?? name,
      dir: given.dir,
      coords: given.coords ?? {},
      params: given.params ?? {},
      summary: given.summary ?? {},
      durationSeconds: given.durationSeconds ?? 0,
      path: (output) => outputPath(given.dir, { name: producer, outputs }, output),
      digest: (output) => outputDigest(filesOf(given.dir), { name: producer, outputs }, output),
    };
  };
  const inputs: Record<string, InputArtifact | InputArtifact[]> = {};
  for (const [name, given] of Object.entries(options.inputs as Record<string, RigInput | readonly RigInput[]>))
    inputs[name] = Array.isArray(given) ? given.map((g: RigInput) => artifact(name, g)) : artifact(name, given as RigInput);
  const ctx: StageContext<z.output<S>, I, O> = {
    stage: stage.name,
    key: options.key ?? 'test',
    params: stage.params.parse(options.params),
    coords: options.coords ?? {},
    inputs: inputs as InputsOf<I>,
    outDir,
    output: (name) => outputPath(outDir, stage, name),
    threads: options.threads ?? 1,
    log: (line) => lines.push(line),
    progress: (update) => progress.push(update),
    signal: options.signal ?? new AbortController().signal,
    memo: options.memo ?? NO_MEMO,
  };
  return { ctx, outDir, lines, progress };
}

/** Runs a stage as `exec` would (minus the store): validated params, declared summary and outputs checked. */
export async function runStage<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls>(
  stage: Stage<N, S, I, O>,
  options: RigOptions<S, I>,
): Promise<Rigged<z.output<S>, I, O> & { readonly outcome: StageOutcome }> {
  const rigged = stageContext(stage, options);
  const outcome = await stage.run(rigged.ctx);
  const summary = checkSummary(stage, outcome.summary ?? {});
  await checkOutputs(rigged.outDir, stage);
  return { ...rigged, outcome: { ...outcome, summary } };
}
