/**
 * Expands a validated config into the DAG of stage instances (docs/engine.md).
 *
 *   generate-data[role=source]  ─┬─> train-source[seed] ──────────────┬─> transfer[c,n,mode,depth,seed]
 *   generate-data[role=target,c] ┼─> train-scratch[c,n,seed] ─────────┤
 *                                └─> similarity[c] <─ train-source[seeds[0]], reference scratch
 *   aggregate <─ every train-scratch (sweep), transfer and similarity instance
 *
 * Each instance's params are exactly what its stage reads, so a cache key moves only when
 * something that stage depends on moves: `target_sizes` is not a param of `generate-data` (the
 * pool is), `similarity.*` is read only by `similarity`, `train.*` not by `generate-data`.
 * The reference network of `similarity` is the `train-scratch` instance at
 * n = task.target_reference_size and the first seed; when that n is also in the sweep it is the
 * same instance (same id, same key), trained once.
 */
import type { Coords, InstanceSpec, JsonObject } from '../pipeline/stage.js';
import {
  classesOf,
  correlationsOf,
  depthOf,
  depthsOf,
  type DefrostConfig,
  type ImageTaskConfig,
  type SyntheticTaskConfig,
} from './config.js';

/** Readable instance id: `stage[k=v,...]` in the coordinates' order. */
export function instanceId(stage: string, coords: Coords): string {
  const parts = Object.entries(coords).map(([k, v]) => `${k}=${v === null ? 'none' : v}`);
  return parts.length === 0 ? stage : `${stage}[${parts.join(',')}]`;
}

function spec(stage: string, coords: Coords, params: JsonObject, inputs: Record<string, string>): InstanceSpec {
  return { id: instanceId(stage, coords), stage, coords, params, inputs };
}

/** The feature and rule correlations (rho_f, rho_r) that one sweep value stands for. */
export function resolveCorrelation(task: SyntheticTaskConfig, rho: number): { feature: number; rule: number } {
  return { feature: task.feature_correlation ?? rho, rule: task.rule_correlation ?? rho };
}

/** Params of the source data: everything that shapes source samples, nothing target-only. */
function sourceDataParams(config: DefrostConfig): JsonObject {
  const t = config.task;
  const common = { source_size: t.source_size, test_size: t.test_size, label_noise: t.label_noise, input_noise: t.input_noise };
  if (t.kind === 'synthetic') {
    const { latent_dim, input_dim, teacher_hidden, classes } = t;
    return { role: 'source', seed: config.seed, task: { kind: 'synthetic', latent_dim, input_dim, teacher_hidden, classes, ...common } };
  }
  return { role: 'source', seed: config.seed, task: { kind: 'image', source: t.source, ...common } };
}

/** Params of one target dataset. The synthetic target re-derives the source matrices from the seed. */
function targetDataParams(config: DefrostConfig, rho: number | null): JsonObject {
  const t = config.task;
  const common = { target_pool: t.target_pool, test_size: t.test_size, label_noise: t.label_noise, input_noise: t.input_noise };
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
    task: { kind: 'image', target: (t as ImageTaskConfig).target, ...common },
  };
}

/** What every training stage reads: the network and the optimisation recipe. */
function trainingParams(config: DefrostConfig): { model: JsonObject; train: JsonObject } {
  return {
    model: { ...config.model },
    train: { ...config.train, early_stopping: config.train.early_stopping ? { ...config.train.early_stopping } : null },
  };
}

export function planDefrost(config: DefrostConfig): InstanceSpec[] {
  const specs = new Map<string, InstanceSpec>();
  const add = (s: InstanceSpec): string => {
    if (!specs.has(s.id)) specs.set(s.id, s);
    return s.id;
  };
  const { task, seeds } = config;
  const training = trainingParams(config);
  const classes = classesOf(task);
  const L = depthOf(config);

  const sourceData = add(spec('generate-data', { role: 'source' }, sourceDataParams(config), {}));
  const sourceNet = new Map<number, string>();
  for (const seed of seeds) {
    sourceNet.set(seed, add(spec('train-source', { seed }, { ...training, seed }, { data: sourceData })));
  }

  const aggregateInputs: Record<string, string> = {};
  for (const correlation of correlationsOf(task)) {
    const c: Coords = correlation === null ? {} : { correlation };
    const targetData = add(spec('generate-data', { role: 'target', ...c }, targetDataParams(config, correlation), {}));
    const scratch = (n: number, seed: number): string =>
      add(spec('train-scratch', { correlation, n, seed }, { ...training, correlation, n, seed }, { data: targetData }));

    for (const n of task.target_sizes) {
      for (const seed of seeds) {
        const s = scratch(n, seed);
        aggregateInputs[s] = s;
        for (const mode of config.transfer.modes) {
          for (const depth of depthsOf(config)) {
            const t = add(
              spec(
                'transfer',
                { correlation, n, mode, depth, seed },
                { ...training, correlation, n, mode, depth, seed },
                { data: targetData, source: sourceNet.get(seed) as string },
              ),
            );
            aggregateInputs[t] = t;
          }
        }
      }
    }

    const reference = scratch(task.target_reference_size, seeds[0]);
    const sim = add(
      spec(
        'similarity',
        { correlation },
        { correlation, similarity: { ...config.similarity, measures: [...config.similarity.measures] } },
        { data: targetData, source: sourceNet.get(seeds[0]) as string, reference },
      ),
    );
    aggregateInputs[sim] = sim;
  }

  add(spec('aggregate', {}, { classes, depth: L, task_kind: task.kind }, aggregateInputs));
  return [...specs.values()];
}
