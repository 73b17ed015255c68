/**
 * Expands a validated config into the DAG of stage instances (docs/engine.md).
 *
 *   generate-data[role=source]  ─┬─> train-source[seed] ──────────────┬─> transfer[c,n,mode,depth,seed]
 *   generate-data[role=target,c] ┼─> train-scratch[c,n,seed] ─────────┤
 *                                └─> similarity[c] <─ train-source[seeds[0]], reference scratch
 *   aggregate <─ every train-scratch (sweep), transfer and similarity instance, and the
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
 */
import { instanceId, PlanBuilder, type InstanceRef } from '../pipeline/plan-builder.js';
import type { Coords, InstanceSpec } from '../pipeline/stage.js';
import { resolve } from 'node:path';
import { aggregateStage } from './aggregate.js';
import { classesOf, correlationsOf, depthOf, depthsOf, type DefrostConfig, type SyntheticTaskConfig } from './config.js';
import { fingerprintFileDatasetSync, filesPath } from './files/read.js';
import { generateDataStage, type GenerateDataStageParams } from './generate-data.js';
import { REPORT_SECTIONS } from './report/sections.js';
import { similarityStage } from './similarity.js';
import { trainScratchStage } from './train-scratch.js';
import { trainSourceStage } from './train-source.js';
import { transferStage } from './transfer.js';

/** Readable instance ids (`stage[k=v,...]`); kept here for the report's fixtures. */
export { instanceId };

/** The feature and rule correlations (rho_f, rho_r) that one sweep value stands for. */
export function resolveCorrelation(task: SyntheticTaskConfig, rho: number): { feature: number; rule: number } {
  return { feature: task.feature_correlation ?? rho, rule: task.rule_correlation ?? rho };
}

/**
 * `files:` datasets key generate-data by their bytes (docs/your-data.md): editing the data re-runs
 * it and everything downstream. Other datasets add nothing, so their keys are unchanged.
 */
function filesFingerprint(dataset: string): { data_sha256?: string } {
  const path = filesPath(dataset);
  return path === null ? {} : { data_sha256: fingerprintFileDatasetSync({ path: resolve(path) }) };
}

/** Params of the source data: everything that shapes source samples, nothing target-only. */
function sourceDataParams(config: DefrostConfig): GenerateDataStageParams {
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
    return { role: 'source', seed: config.seed, task: { kind: 'synthetic', latent_dim, input_dim, teacher_hidden, classes, ...common } };
  }
  return { role: 'source', seed: config.seed, ...filesFingerprint(t.source.dataset), task: { kind: 'image', source: t.source, ...common } };
}

/** Params of one target dataset. The synthetic target re-derives the source matrices from the seed. */
function targetDataParams(config: DefrostConfig, rho: number | null): GenerateDataStageParams {
  const t = config.task;
  const common = {
    target_pool: t.target_pool,
    test_size: t.test_size,
    validation_size: t.validation_size,
    label_noise: t.label_noise,
    input_noise: t.input_noise,
  };
  if (t.kind === 'synthetic') {
    const { latent_dim, input_dim, teacher_hidden, classes } = t;
    const { feature, rule } = resolveCorrelation(t, rho as number);
    return {
      role: 'target',
      seed: config.seed,
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
    seed: config.seed,
    correlation: null,
    ...filesFingerprint(t.target.dataset),
    task: { kind: 'image', target: t.target, ...common },
  };
}

/** What every training stage reads: the network and the optimisation recipe. */
function trainingParams(config: DefrostConfig): Pick<DefrostConfig, 'model' | 'train'> {
  return { model: config.model, train: config.train };
}

export function planDefrost(config: DefrostConfig): InstanceSpec[] {
  const plan = new PlanBuilder();
  const { task, seeds } = config;
  const training = trainingParams(config);
  const classes = classesOf(task);
  const L = depthOf(config);

  const sourceData = plan.add(generateDataStage, { role: 'source' }, sourceDataParams(config), {});
  const sourceNet = new Map<number, InstanceRef<'train-source'>>();
  for (const seed of seeds) sourceNet.set(seed, plan.add(trainSourceStage, { seed }, { ...training, seed }, { data: sourceData }));
  const sourceOf = (seed: number): InstanceRef<'train-source'> => sourceNet.get(seed) as InstanceRef<'train-source'>;

  const runs: InstanceRef<(typeof aggregateStage.inputs.runs.stages)[number]>[] = [];
  for (const correlation of correlationsOf(task)) {
    const c: Coords = correlation === null ? {} : { correlation };
    const data = plan.add(generateDataStage, { role: 'target', ...c }, targetDataParams(config, correlation), {});
    const scratch = (n: number, seed: number): InstanceRef<'train-scratch'> =>
      plan.add(trainScratchStage, { correlation, n, seed }, { ...training, correlation, n, seed }, { data });

    for (const n of task.target_sizes) {
      for (const seed of seeds) {
        runs.push(scratch(n, seed));
        for (const mode of config.transfer.modes) {
          for (const depth of depthsOf(config)) {
            runs.push(
              plan.add(
                transferStage,
                { correlation, n, mode, depth, seed },
                { ...training, correlation, n, mode, depth, seed },
                { data, source: sourceOf(seed) },
              ),
            );
          }
        }
      }
    }

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

  plan.add(aggregateStage, {}, { classes, depth: L, task_kind: task.kind }, { runs: dedupe(runs) });
  return plan.specs();
}

/** The same instance once (a reference network that is also a sweep run is one aggregate input). */
function dedupe<R extends InstanceRef>(refs: readonly R[]): R[] {
  const seen = new Set<string>();
  return refs.filter((r) => !seen.has(r.id) && seen.add(r.id) !== undefined);
}
