/**
 * The DAG of `defrost recommend` (docs/your-data.md):
 *
 *   import-data ───┬─> cv-train[mode,depth,fold] ──┐
 *   import-source ─┘   cv-train[mode=scratch,fold] ┴─> recommend
 *
 * One `cv-train` per (mode, setting, fold) and one scratch run per fold: a prefix mode's settings
 * are the requested depths, a protocol's its own default settings (`modeSettings`). Each instance's params are
 * what it reads, so asking for another depth or mode adds only its folds (and the `recommend`
 * that gathers them); the data and the network enter every key through their bytes.
 * `planRecommendRuns` takes the depths to train, so a faster strategy can plan a subset, and the
 * folds each candidate has trained so far, so early elimination (stages/lib/race.ts) can plan round by round.
 */
import { PlanBuilder, type InstanceRef } from '../../pipeline/plan-builder.js';
import type { Coords, InstanceSpec } from '../../pipeline/stage.js';
import type { TrainConfig } from '../lib/models/recipe.js';
import { frozenPrefix, optionsOf, settingOf } from '../lib/models/transfer-modes/mode.js';
import { SCRATCH_MODE, transferModeOf, type TransferMode } from '../lib/models/transfer-modes/registry.js';
import type { FileDatasetSpec } from '../lib/formats/read.js';
import type { ImageOptions } from '../lib/formats/read-images.js';
import { cvTrainStage } from './cv-train.js';
import { prefixLimitBytes, prefixStage } from '../training/prefix.js';
import { DEFAULT_PREFIX_CACHE_GB } from '../config/schema.js';
import { importDataStage } from '../data/import-data.js';
import { importSourceStage } from '../data/import-source.js';
import { fineTuneStage } from './fine-tune.js';
import { recommendStage } from './recommend.js';
import { candidateKey, type Candidate } from '../lib/race.js';

/** Everything `recommend` plans from: checked files with their fingerprints, and the protocol. */
export interface RecommendRequest {
  readonly data: { readonly spec: FileDatasetSpec; readonly sha256: string; readonly images: ImageOptions; readonly label: string };
  readonly model: { readonly path: string; readonly sha256: string; readonly blocks: string[][] | null; readonly label: string };
  readonly folds: number;
  /** L, the network's blocks (as derived or named). */
  readonly blocks: number;
  readonly modes: readonly TransferMode[];
  /** `--protocols`: the modes trained beside `modes` and compared across protocols (empty: none). */
  readonly protocols: readonly TransferMode[];
  readonly seed: number;
  readonly train: TrainConfig;
}

/**
 * How far a race has gone (stages/lib/race.ts): the folds each candidate trains (folds 0..n-1, by
 * `candidateKey`), and whether the answer is planned yet (after the last round).
 */
export interface RacePlan {
  readonly trainedFolds: ReadonlyMap<string, number>;
  readonly answer: boolean;
}

/** The two imports every recommend instance reads (the same instances, so cached once). */
function addImports(
  plan: PlanBuilder,
  request: RecommendRequest,
): { importData: InstanceRef<'import-data'>; importSource: InstanceRef<'import-source'> } {
  const { data } = request;
  const importData = plan.add(
    importDataStage,
    {},
    {
      dataset: data.spec,
      images: { size: data.images.size ? [data.images.size[0], data.images.size[1]] : null, channels: data.images.channels },
      sha256: data.sha256,
    },
    {},
  );
  const importSource = plan.add(importSourceStage, {}, sourceParams(request), {});
  return { importData, importSource };
}

function sourceParams(request: RecommendRequest): { model: string; blocks: string[][] | null; sha256: string } {
  return { model: request.model.path, blocks: request.model.blocks, sha256: request.model.sha256 };
}

/**
 * The largest frozen-prefix activations cached for the fold runs, in bytes: the study's default
 * (`transfer.prefix_cache_gb`, docs/performance.md#frozen-prefix-activations); over it the folds
 * run the frozen blocks every step.
 */
const PREFIX_LIMIT_BYTES = prefixLimitBytes(DEFAULT_PREFIX_CACHE_GB);

/**
 * The `prefix` instance a fold run at `depth` of `mode` reads: block l's outputs on every sample,
 * for a mode without phases of its own that keeps blocks 1..l frozen (depth l of `defrost` and
 * `reinit`), each depth computed from the one before it; none at l = 0 and for the protocols.
 */
function planFoldPrefix(
  plan: PlanBuilder,
  mode: TransferMode,
  depth: number,
  blocks: number,
  sources: { data: InstanceRef<'import-data'>; source: InstanceRef<'import-source'> },
): InstanceRef<'prefix'>[] {
  const definition = transferModeOf(mode);
  if (definition.schedule !== undefined) return [];
  let previous: InstanceRef<'prefix'>[] = [];
  for (let l = 1; l <= frozenPrefix(definition, depth, blocks, optionsOf(definition)); l++)
    previous = [
      plan.add(
        prefixStage,
        { depth: l },
        { depth: l, limit_bytes: PREFIX_LIMIT_BYTES },
        { data: [], samples: [sources.data], source: sources.source, previous },
      ),
    ];
  return previous;
}

/**
 * The instances of a recommend over `depths` (plus scratch), gathered by one `recommend`: every
 * fold of every candidate (`race` null: exhaustive), or the folds a race has reached.
 */
export function planRecommendRuns(request: RecommendRequest, depths: readonly number[], race: RacePlan | null = null): InstanceSpec[] {
  const { data, model, folds, seed, train } = request;
  const plan = new PlanBuilder();
  const { importData, importSource } = addImports(plan, request);
  const sources = { data: importData, source: importSource };
  const runs: InstanceRef<'cv-train'>[] = [];
  const add = (mode: TransferMode | typeof SCRATCH_MODE, depth: number | null, fold: number): void => {
    const coords: Coords = depth === null ? { mode, fold } : { mode, depth, fold };
    const prefix = depth === null || mode === SCRATCH_MODE ? [] : planFoldPrefix(plan, mode, depth, request.blocks, sources);
    runs.push(plan.add(cvTrainStage, coords, { folds, fold, mode, depth, seed, train }, { ...sources, prefix }));
  };
  const addSetting = (mode: TransferMode, setting: number, fold: number): void => {
    const definition = transferModeOf(mode);
    const options = definition.options === undefined ? {} : { options: optionsOf(definition) };
    if (settingOf(definition).coordinate === 'depth') {
      runs.push(
        plan.add(
          cvTrainStage,
          { mode, depth: setting, fold },
          { folds, fold, mode, depth: setting, ...options, seed, train },
          { ...sources, prefix: [] },
        ),
      );
    } else {
      runs.push(
        plan.add(
          cvTrainStage,
          { mode, setting, fold },
          { folds, fold, mode, depth: null, setting, ...options, seed, train },
          { ...sources, prefix: [] },
        ),
      );
    }
  };
  const modes = [...request.modes, ...request.protocols.filter((p) => !request.modes.includes(p))];
  // A race (stages/lib/race.ts) trains a depth or scratch only on the folds it has reached; protocol settings train every fold.
  const trains = (candidate: Candidate, fold: number): boolean => fold < (race?.trainedFolds.get(candidateKey(candidate)) ?? folds);
  for (let fold = 0; fold < folds; fold++) {
    if (trains({ mode: SCRATCH_MODE, depth: null }, fold)) add(SCRATCH_MODE, null, fold);
    for (const mode of modes) {
      if (transferModeOf(mode).setting === undefined) {
        for (const depth of depths) if (trains({ mode, depth }, fold)) add(mode, depth, fold);
      } else for (const setting of modeSettings(mode, request.blocks)) addSetting(mode, setting, fold);
    }
  }
  if (race === null || race.answer)
    plan.add(
      recommendStage,
      {},
      {
        modes: [...request.modes],
        ...(request.protocols.length === 0 ? {} : { protocols: modes }),
        depths: [...depths],
        folds,
        blocks: request.blocks,
        data: data.label,
        model: model.label,
        elimination: race !== null,
      },
      { data: importData, runs },
    );
  return plan.specs();
}

/** `--save-model`: the network transferred at the answer's (mode, depth) and trained on all the data. */
export function planFineTune(request: RecommendRequest, mode: TransferMode, depth: number): InstanceSpec[] {
  const plan = new PlanBuilder();
  const { importData, importSource } = addImports(plan, request);
  plan.add(
    fineTuneStage,
    { mode, depth },
    {
      source: sourceParams(request),
      data: { path: request.data.label, sha256: request.data.sha256 },
      mode,
      depth,
      folds: request.folds,
      seed: request.seed,
      train: request.train,
    },
    { data: importData, source: importSource },
  );
  return plan.specs();
}

/** The settings `recommend` trains a protocol at: its defaults for a network of `blocks` blocks, options at their defaults. */
export function modeSettings(mode: TransferMode, blocks: number): number[] {
  const definition = transferModeOf(mode);
  return settingOf(definition).defaults(blocks, optionsOf(definition));
}
