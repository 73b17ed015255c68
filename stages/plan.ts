/**
 * Expands a validated config into the DAG of stage instances (docs/engine.md).
 *
 *   generate-data[role=source]  ─┬─> train-source[seed] ──────────────┬─> transfer[c,n,mode,depth,seed]
 *   generate-data[role=target,c] ┼─> train-scratch[c,n,seed] ─────────┤
 *                                └─> similarity[c] <─ train-source[seeds[0]], reference scratch
 *   aggregate <─ every run of the l* table (train-scratch and transfer, report/answer-stages.ts,
 *                each planning its own runs per cell), every similarity instance, and the
 *                report sections' instances (report/sections.ts), which each section plans
 *                itself per correlation: "Can l* be predicted?" (prediction/section.ts) adds
 *     baseline[c,seed,other_seed] <─ two reference scratch networks of different seeds
 *     predict[c,n] <─ target data, train-source[seeds[0]], similarity[c], every baseline[c,*]
 *
 * Each instance's params are exactly what its stage reads, so a cache key moves only when
 * something that stage depends on moves: `target_sizes` is not a param of `generate-data` (the
 * pool is), `similarity.*` is read only by `similarity`, `train.*` not by `generate-data`.
 * The reference network of `similarity` is the `train-scratch` instance at
 * n = task.target_reference_size and the first seed; when that n is also in the sweep it is the
 * same instance (same id, same key), trained once.
 *
 * With a pre-trained `source_model` (docs/your-data.md) one `import-source` instance, keyed by the
 * network's bytes, takes the place of every `train-source[seed]` (and of the source data): every
 * seed's transfers start from it, `similarity` and `predict` read it, and scratch networks take
 * its architecture (their `model` param is null, the network comes in as `architecture`).
 */
import { instanceId, PlanBuilder, type InstanceRef } from '../pipeline/plan-builder.js';
import type { Coords, InstanceSpec } from '../pipeline/stage.js';
import { aggregateStage } from './report/aggregate.js';
import type { TransferMode } from './lib/models/transfer-modes/registry.js';
import { ANSWER_STAGES } from './report/answer-stages.js';
import {
  classesOf,
  correlationsOf,
  depthOf,
  depthsOf,
  settingsOf,
  selectionSizeOf,
  taskSeedsOf,
  type DefrostConfig,
  type SyntheticTaskConfig,
} from './config/schema.js';
import { fileSpecOf, fingerprintFileDataset, type NamedDataset } from './lib/formats/read.js';
import type { ImageOptions } from './lib/formats/read-images.js';
import { generateDataStage, type GenerateDataStageParams } from './data/generate-data.js';
import { importSourceStage } from './data/import-source.js';
import { REPORT_SECTIONS } from './report/sections.js';
import { similarityStage } from './similarity/similarity.js';
import { studySourceOf, type StudySource } from './lib/models/source-network/study.js';
import { studyImageOptions } from './data/study-images.js';
import { trainScratchStage } from './training/train-scratch.js';
import { trainSourceStage } from './training/train-source.js';
import { planRaces } from './training/race-plan.js';

/** Readable instance ids (`stage[k=v,...]`); kept here for the report's fixtures. */
export { instanceId };

/** The feature and rule correlations (rho_f, rho_r) that one sweep value stands for. */
export function resolveCorrelation(task: SyntheticTaskConfig, rho: number): { feature: number; rule: number } {
  return { feature: task.feature_correlation ?? rho, rule: task.rule_correlation ?? rho };
}

/**
 * `files:` datasets (and train/test pairs) key generate-data by their bytes and by how their
 * images are decoded (docs/your-data.md): editing the data re-runs it and everything downstream.
 * Other datasets add nothing, so their keys are unchanged.
 */
function filesParams(dataset: NamedDataset, images: ImageOptions): Pick<GenerateDataStageParams, 'data_sha256' | 'images'> {
  const spec = fileSpecOf(dataset);
  return spec === null
    ? {}
    : {
        data_sha256: fingerprintFileDataset(spec),
        images: { size: images.size === null ? null : [images.size[0], images.size[1]], channels: images.channels },
      };
}

/** Params of the source data: everything that shapes source samples, nothing target-only. */
function sourceDataParams(config: DefrostConfig, taskSeed: number): GenerateDataStageParams {
  const t = config.task;
  const common = {
    source_size: t.source_size,
    test_size: t.test_size,
    validation_size: t.validation_size,
    label_noise: t.label_noise,
    input_noise: t.input_noise,
  };
  if (t.kind === 'synthetic') {
    const { latent_dim, input_dim, teacher_hidden, classes } = t;
    return { role: 'source', seed: taskSeed, task: { kind: 'synthetic', latent_dim, input_dim, teacher_hidden, classes, ...common } };
  }
  if (t.source === undefined) throw new Error('planned source data without task.source');
  return {
    role: 'source',
    seed: taskSeed,
    ...filesParams(t.source.dataset, studyImageOptions(config)),
    task: { kind: 'image', source: t.source, ...common },
  };
}

/** Params of one target dataset. The synthetic target re-derives the source matrices from the seed. */
function targetDataParams(config: DefrostConfig, rho: number | null, taskSeed: number): GenerateDataStageParams {
  const t = config.task;
  const common = {
    target_pool: t.target_pool,
    test_size: t.test_size,
    validation_size: t.validation_size,
    selection_size: selectionSizeOf(t),
    label_noise: t.label_noise,
    input_noise: t.input_noise,
  };
  if (t.kind === 'synthetic') {
    const { latent_dim, input_dim, teacher_hidden, classes } = t;
    const { feature, rule } = resolveCorrelation(t, rho as number);
    return {
      role: 'target',
      seed: taskSeed,
      correlation: rho,
      task: {
        kind: 'synthetic',
        latent_dim,
        input_dim,
        teacher_hidden,
        classes,
        feature_correlation: feature,
        rule_correlation: rule,
        ...common,
      },
    };
  }
  return {
    role: 'target',
    seed: taskSeed,
    correlation: null,
    ...filesParams(t.target.dataset, studyImageOptions(config)),
    task: { kind: 'image', target: t.target, ...common },
  };
}

type SourceRef = InstanceRef<'train-source' | 'import-source'>;

/** The source network of each seed, and the imported network when there is one. */
interface PlannedSources {
  readonly sourceOf: (seed: number) => SourceRef;
  readonly imported: InstanceRef<'import-source'> | null;
}

/**
 * The source network of each seed: `train-source[seed]` on the source data, or the one
 * `import-source` of a `source_model`.
 */
function planSources(plan: PlanBuilder, config: DefrostConfig, imported: StudySource | null, task: TaskCoords): PlannedSources {
  if (imported !== null) {
    const network = plan.add(
      importSourceStage,
      {},
      {
        model: imported.path,
        blocks: config.source_blocks === null ? null : config.source_blocks.map((b) => [...b]),
        sha256: imported.sha256,
      },
      {},
    );
    return { sourceOf: () => network, imported: network };
  }
  const sourceData = plan.add(generateDataStage, { ...task.coords, role: 'source' }, sourceDataParams(config, task.seed), {});
  const bySeed = new Map<number, SourceRef>();
  for (const seed of config.seeds)
    bySeed.set(
      seed,
      plan.add(trainSourceStage, { ...task.coords, seed }, { model: config.model, train: config.train, seed }, { data: sourceData }),
    );
  const sourceOf = (seed: number): SourceRef => {
    const ref = bySeed.get(seed);
    if (ref === undefined) throw new Error(`no source network planned for seed ${seed}`);
    return ref;
  };
  return { sourceOf, imported: null };
}

/**
 * One task instance (`task_seeds`, docs/protocol.md): its data seed, and the coordinate that
 * tells its instances apart (none when the study has the one task of `seed`, so such a study's
 * ids are what they always were).
 */
interface TaskCoords {
  readonly seed: number;
  readonly coords: Coords;
}

export function planDefrost(config: DefrostConfig): InstanceSpec[] {
  const plan = new PlanBuilder();
  const { task, seeds } = config;
  const imported = studySourceOf(config);
  // Target networks: the configured architecture, or (null) the imported network's.
  const training = { model: imported === null ? config.model : null, train: config.train, validation: config.validation };
  const classes = classesOf(task);
  const L = depthOf(config);
  const depths = depthsOf(config);
  const settingsByMode = new Map(config.transfer.modes.map((mode) => [mode, settingsOf(config, mode)]));
  const settings = (mode: TransferMode): readonly number[] => settingsByMode.get(mode) ?? [];
  const tasks: TaskCoords[] = taskSeedsOf(config).map((seed): TaskCoords => ({
    seed,
    coords: config.task_seeds === null ? {} : { task: seed },
  }));

  const runs: InstanceRef<(typeof aggregateStage.inputs.runs.stages)[number]>[] = [];
  for (const instance of tasks) {
    const sources = planSources(plan, config, imported, instance);
    const sourceOf = sources.sourceOf;
    const architecture = sources.imported === null ? [] : [sources.imported];
    const t = instance.coords;

    for (const correlation of correlationsOf(task)) {
      const c: Coords = correlation === null ? {} : { correlation };
      const data = plan.add(generateDataStage, { ...t, role: 'target', ...c }, targetDataParams(config, correlation, instance.seed), {});
      const scratch = (n: number, seed: number): InstanceRef<'train-scratch'> =>
        plan.add(trainScratchStage, { ...t, correlation, n, seed }, { ...training, correlation, n, seed }, { data, architecture });

      // The runs of the l* table, cell by cell: each stage that feeds it plans its own (answer-stages.ts).
      for (const n of task.target_sizes) {
        for (const seed of seeds) {
          const cell = { plan, config, task: t, correlation, n, seed, depths, settings, training, data, source: sourceOf(seed), scratch };
          for (const answer of ANSWER_STAGES) runs.push(...answer.plan(cell));
        }
      }

      // The similarity stage and the report's sections describe the first task instance.
      if (instance !== tasks[0]) continue;
      const reference = scratch(task.target_reference_size, seeds[0]);
      const similarity = plan.add(
        similarityStage,
        { correlation },
        { correlation, similarity: config.similarity },
        { data, source: sourceOf(seeds[0]), reference },
      );
      runs.push(similarity);

      for (const section of REPORT_SECTIONS)
        runs.push(...section.plan({ plan, config, correlation, data, source: sourceOf, scratch, similarity }));
    }
  }

  // The looks of early elimination read every task instance's transfers: planned after them all.
  planRaces(plan, config, depths);

  plan.add(
    aggregateStage,
    {},
    {
      classes,
      depth: L,
      task_kind: task.kind,
      source_model: config.source_model,
      validation: config.validation,
      tasks: tasks.length,
    },
    { runs: dedupe(runs) },
  );
  return plan.specs();
}

/** The same instance once (a reference network that is also a sweep run is one aggregate input). */
function dedupe<R extends InstanceRef>(refs: readonly R[]): R[] {
  const seen = new Set<string>();
  return refs.filter((r) => !seen.has(r.id) && seen.add(r.id) !== undefined);
}
