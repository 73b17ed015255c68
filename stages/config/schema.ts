/**
 * The defrost config: the YAML files in `experiments/`, after `--set` overrides, validated here.
 *
 * Every section is a strict object, so an unknown key is an error that names it. Defaults are
 * filled in here, so a config file only says what it changes; the planner (`plan.ts`) and the
 * stages read the parsed, defaulted form. Cross-field rules (a depth beyond the network, n larger
 * than the pool...) are in `checkConfig`, which reports every problem with the allowed values.
 * docs/config.md is generated from this schema (`make docs`): every field's `.describe()` is its
 * documentation there. Keys are a contract with users' configs; do not rename them.
 */
import { z } from 'zod';
import { nearestName } from '../../pipeline/nearest-name.js';
import type { ConfigIssue } from '../../pipeline/project.js';
import { MEASURE_NAMES } from '../lib/measures/registry.js';
import { trainSchema } from '../lib/models/recipe.js';
import { settingOf, type SweptSetting } from '../lib/models/transfer-modes/mode.js';
import { declaredOptions } from '../lib/models/transfer-modes/options.js';
import {
  DEFAULT_TRANSFER_MODE,
  PROTOCOLS,
  TRANSFER_MODES,
  transferModeOf,
  type TransferMode,
} from '../lib/models/transfer-modes/registry.js';
import { studySourceOf } from '../lib/models/source-network/study.js';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'swish', 'linear'] as const;

const count = z.number().int().positive();

/** Where runs stop and l* is chosen (docs/protocol.md): large sets of the task, or carved from the n samples. */
export const VALIDATION_SCHEMES = ['external', 'held_out'] as const;
export type ValidationScheme = (typeof VALIDATION_SCHEMES)[number];
/** A correlation rho in [0, 1] (also a stage param: see `plan.ts`). */
export const correlationSchema = z.number().min(0).max(1);
const correlation = correlationSchema;
/** A seed: the config's data seed and each training seed. */
export const seedSchema = z.number().int().min(0);
/** A positive count (n, sizes). */
export const countSchema = count;

/**
 * `fashion-mnist`, `mnist`, `idx:<dir>` holding the standard IDX files, or `files:<path>` (the
 * user's own labelled files, docs/your-data.md).
 */
export const datasetSchema = z
  .string()
  .regex(/^(fashion-mnist|mnist|idx:.+|files:.+)$/, 'expected "fashion-mnist", "mnist", "idx:<directory>" or "files:<path>"');

/**
 * The user's own training and test files (docs/your-data.md): both read like a `files:<path>`
 * dataset, the test file is the test split (instead of one sample in seven held out).
 */
export const datasetPairSchema = z.strictObject({
  train: z.string().min(1).describe('path of the training samples (any `files:` format)'),
  test: z.string().min(1).describe('path of the test samples (same format, same classes)'),
});
export type DatasetName = z.infer<typeof datasetSchema> | z.infer<typeof datasetPairSchema>;

/** A class subset of a dataset: `task.source` and `task.target` (also `generate-data`'s params). */
export const classSubsetSchema = z.strictObject({
  dataset: z
    .union([datasetSchema, datasetPairSchema])
    .describe(
      '`fashion-mnist`, `mnist`, `idx:<dir>` (a directory of the standard IDX files), `files:<path>` (.npy, a features.npy + labels.npy directory, .arrow, .csv or an image folder; docs/your-data.md), or `{train: PATH, test: PATH}` (your own test set; both files must hold the same classes)',
    ),
  classes: z
    .array(z.number().int().min(0))
    .min(2)
    .describe(
      'class indices of the dataset, relabelled 0..C-1 in the order listed (`files:` datasets: indices into the sorted labels of the file)',
    ),
});

const sizes = {
  source_size: count.default(20000).describe('source training samples'),
  target_pool: count.default(5000).describe('largest target training set; every n in `target_sizes` is a nested prefix of it'),
  target_sizes: z.array(count).min(1).default([50, 500, 5000]).describe('the target training set sizes n of the sweep'),
  target_reference_size: count
    .default(5000)
    .describe('target samples of the reference network that `similarity` compares with the source network'),
  test_size: count.default(2000).describe('test samples per task'),
  validation_size: count
    .default(1000)
    .describe(
      'stopping samples per task (`validation: external`): drawn from its distribution, disjoint from the pool, the selection set and the test set (image tasks: from the training split); every run stops on them and picks its learning rate on them (docs/protocol.md)',
    ),
  selection_size: count
    .nullable()
    .default(null)
    .describe(
      'selection samples per target task (`validation: external`): drawn like the stopping samples and disjoint from them, the pool and the test set; l* and its plausible set are chosen on them, never on the data that stopped the runs (docs/protocol.md); null: as many as `validation_size`',
    ),
  label_noise: z.number().min(0).max(1).default(0).describe('fraction of training labels replaced by a random class'),
  input_noise: z.number().min(0).default(0).describe('standard deviation of Gaussian noise added to every input'),
};

export const syntheticTaskSchema = z.strictObject({
  kind: z.literal('synthetic').describe('the controlled task model of docs/science.md'),
  latent_dim: count.default(16).describe('D, dimension of the Gaussian latents z'),
  input_dim: count.default(256).describe('N, input features'),
  teacher_hidden: z.number().int().min(0).default(64).describe('K, hidden units of the teacher; 0 makes the teacher linear (h = z)'),
  classes: z.number().int().min(2).default(4).describe('C, classes'),
  correlations: z.array(correlation).min(1).default([1]).describe('the source-target correlations rho of the sweep'),
  feature_correlation: correlation
    .nullable()
    .default(null)
    .describe('pins rho_f (feature maps F, A) for every correlation of the sweep; null: rho_f = rho'),
  rule_correlation: correlation
    .nullable()
    .default(null)
    .describe('pins rho_r (readout B) for every correlation of the sweep; null: rho_r = rho'),
  ...sizes,
});

/**
 * How image folders are brought to one input shape; `defrost recommend --image-size/--channels`
 * take the same two settings (docs/your-data.md).
 */
export const imageOptionsSchema = z.strictObject({
  size: z
    .tuple([count, count])
    .nullable()
    .default(null)
    .describe(
      "[height, width] every image is resized to (stretched to fill); null: the images' own size (all must share it), or with `source_model` the network's input size",
    ),
  channels: z
    .union([z.literal(1), z.literal(3)])
    .nullable()
    .default(null)
    .describe("1 (grey) or 3 (RGB, alpha dropped); null: the first image decides, or with `source_model` the network's input channels"),
});

export const imageTaskSchema = z.strictObject({
  kind: z.literal('image').describe('source and target are class subsets of real image datasets'),
  source: classSubsetSchema
    .optional()
    .describe('the source task; omitted when `source_model` brings the source network (giving both is an error)'),
  target: classSubsetSchema.describe('the target task'),
  images: imageOptionsSchema
    .default(imageOptionsSchema.parse({}))
    .describe('image folders of `files:` datasets only: the size and channels images are decoded to'),
  ...sizes,
});

export const taskSchema = z.discriminatedUnion('kind', [syntheticTaskSchema, imageTaskSchema]);

export const modelSchema = z.strictObject({
  kind: z.enum(['mlp', 'cnn']).default('mlp').describe('dense blocks, or convolutional blocks (image tasks)'),
  hidden: z.array(count).min(1).default([256, 256, 256, 256]).describe('widths of the L hidden blocks (MLP units, or CNN channels)'),
  activation: z.enum(ACTIVATIONS).default('relu').describe('activation of every hidden block'),
  kernel_size: count.default(3).describe('CNN only: square kernel size of every conv block'),
  pool_after: z.array(count).default([1, 2]).describe('CNN only: 1-based indices of the blocks followed by 2x2 max-pooling'),
});

/**
 * One mode's entry of `transfer.protocols` (docs/science.md#beyond-freezing-a-prefix): the settings
 * it sweeps and its fixed options (`stages/lib/models/transfer-modes/options.ts`).
 */
function protocolSchema(mode: TransferMode) {
  const options = Object.fromEntries(
    Object.entries(declaredOptions(mode)).map(([name, o]) => [
      name,
      (o.integer ? z.number().int() : z.number()).min(o.min).default(o.default).describe(o.describe),
    ]),
  );
  return z.strictObject({
    settings: z
      .union([z.literal('all'), z.array(z.number()).min(1)])
      .optional()
      .describe(
        "the mode's swept settings (docs/science.md#transfer-modes): a list, or `all` for a whole-number setting; default: the mode's own",
      ),
    ...options,
  });
}

/** The default of `transfer.prefix_cache_gb`, also `recommend`'s limit for its folds' prefixes. */
export const DEFAULT_PREFIX_CACHE_GB = 2;

export const transferSchema = z.strictObject({
  modes: z
    .array(z.enum(TRANSFER_MODES))
    .min(1)
    .default([DEFAULT_TRANSFER_MODE])
    .describe('transfer modes of the sweep (docs/science.md#transfer-modes)'),
  depths: z
    .union([z.literal('all'), z.array(z.number().int().min(0)).min(1)])
    .default('all')
    .describe('transfer depths l of the prefix modes: `all` = 0..L, or a list'),
  prefix_cache_gb: z
    .number()
    .min(0)
    .default(DEFAULT_PREFIX_CACHE_GB)
    .describe(
      'largest frozen-prefix activation artifact cached, in GB: over it a transfer computes the prefix every step; 0 turns caching off (docs/performance.md#frozen-prefix-activations)',
    ),
  eliminate: z
    .boolean()
    .default(false)
    .describe(
      "early elimination: each cell's depths race over the replicates and a depth already significantly worse stops training (docs/protocol.md#early-elimination-in-a-study)",
    ),
  protocols: z
    .strictObject(Object.fromEntries(PROTOCOLS.map((mode) => [mode, protocolSchema(mode).optional()])))
    .default({})
    .describe(
      'per protocol beyond the frozen prefix, its swept settings and its fixed options, e.g. `llrd: {settings: [0.25, 0.5]}` (docs/science.md#beyond-freezing-a-prefix); the prefix modes sweep `transfer.depths`',
    ),
});

export const similaritySchema = z.strictObject({
  probe_size: count.default(1000).describe('target test inputs the networks are compared on'),
  measures: z
    .array(z.enum(MEASURE_NAMES))
    .min(1)
    .default([...MEASURE_NAMES])
    .describe('similarity measures to compute (docs/similarity.md#measures)'),
  k: count.default(10).describe('neighbours for neighbour overlap'),
  rbf_sigma: z.number().positive().default(1).describe('RBF CKA bandwidth, in units of the median pairwise distance'),
  save_activations: z.boolean().default(false).describe('also write the block activations as Arrow tables'),
});

/** The depth predictors and their same-task baseline (docs/prediction.md). */
export const predictionSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('plan the `baseline` and `predict` stages and the report section "Can l* be predicted?"'),
  reference_seeds: z
    .number()
    .int()
    .min(2)
    .max(6)
    .default(4)
    .describe('target reference networks (the first seeds) whose every pair makes the same-task band'),
});

/** Per-stage resources for cluster executors; `mem` like "4G", `time` like "01:00:00". */
export const resourceSchema = z.strictObject({
  cpus: count.default(1).describe('CPUs of the job (also its compute threads)'),
  mem: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'expected a size such as "4G" or "512M"')
    .default('4G')
    .describe('memory, such as "4G" or "512M"'),
  time: z
    .string()
    .regex(/^(\d+-)?\d{1,2}(:\d{2}){0,2}$/, 'expected a Slurm time such as "30", "01:00:00" or "1-00:00:00"')
    .default('01:00:00')
    .describe('time limit, such as "30", "01:00:00" or "1-00:00:00"'),
});

/**
 * `resources`: one `resourceSchema` per stage, keyed by stage name. The names are not listed
 * here: they are the registry's (`STAGES` in stages/project.ts, which this module cannot import,
 * since every stage imports it), and the project's config check rejects an unknown one with
 * `resourceKeyIssues`. A record silently drops a `__proto__` key, so that one is refused here.
 */
export const resourcesSchema = z
  .preprocess(
    (raw, ctx) => {
      if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__'))
        ctx.issues.push({ code: 'custom', message: 'a stage name (`__proto__` is none)', path: ['__proto__'], input: raw });
      return raw;
    },
    z.record(z.string(), resourceSchema),
  )
  .default({});

export const configSchema = z.strictObject({
  seed: z.number().int().min(0).default(0).describe('seed of everything random in the data: matrices, samples, label noise, subsets'),
  task: taskSchema.describe('the source and target tasks; `kind` chooses synthetic or image'),
  model: modelSchema.default(modelSchema.parse({})).describe('the network: L hidden blocks and a readout'),
  train: trainSchema.default(trainSchema.parse({})).describe('how every network trains'),
  transfer: transferSchema.default(transferSchema.parse({})).describe('which transfers the sweep runs'),
  source_model: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'a pre-trained source network, `PATH/model.json` in TensorFlow.js layers format (relative to the directory defrost runs in), used instead of `train-source`: every seed transfers from this one network, scratch and reference networks take its architecture (freshly initialised), and `model` and `task.source` are omitted. A top-level key, like `model`, because it replaces both the source task and the architecture (docs/your-data.md)',
    ),
  source_blocks: z
    .array(z.array(z.string().min(1)).min(1))
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'with `source_model`: the layer names of each block, e.g. `[[conv1, pool1], [dense1]]`; null: each dense/conv layer starts a block',
    ),
  validation: z
    .enum(VALIDATION_SCHEMES)
    .default('external')
    .describe(
      '`external`: runs stop on `task.validation_size` samples and l* is chosen on `task.selection_size` other samples of the task (the population question); `held_out`: both come out of the n target samples (a fifth each, stratified, at least one per class), as a user with n samples would do (docs/protocol.md)',
    ),
  task_seeds: z
    .array(z.number().int().min(0))
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'task instances: each seed redraws the task (teacher, source data, pool, stopping, selection and test sets) in place of `seed`, and every run is repeated on each; intervals and plausible sets then treat tasks as the unit of replication (docs/protocol.md); null: the one task of `seed`',
    ),
  seeds: z
    .array(z.number().int().min(0))
    .min(1)
    .default([0])
    .describe('training seeds: every scratch and transfer run is repeated once per seed'),
  similarity: similaritySchema.default(similaritySchema.parse({})).describe('the similarity stage'),
  prediction: predictionSchema.default(predictionSchema.parse({})).describe('predicting l* without transfer training (docs/prediction.md)'),
  resources: resourcesSchema.describe('per-stage resources for cluster executors (docs/slurm.md)'),
});

export type DefrostConfig = z.infer<typeof configSchema>;

/** `resources.<stage>` of a config, or the defaults of `resourceSchema` (written only there). */
export function resourcesOf(config: DefrostConfig, stage: string): z.output<typeof resourceSchema> {
  return (Object.hasOwn(config.resources, stage) ? config.resources[stage] : undefined) ?? resourceSchema.parse({});
}

/**
 * `resources.<name>` keys that name no stage of the registry (`stageNames`, from
 * stages/project.ts): each is an issue naming the key, the nearest stage name and every stage.
 */
export function resourceKeyIssues(config: Pick<DefrostConfig, 'resources'>, stageNames: readonly string[]): ConfigIssue[] {
  return Object.keys(config.resources)
    .filter((name) => !stageNames.includes(name))
    .map((name) => {
      const near = nearestName(name, stageNames);
      return {
        key: `resources.${name}`,
        value: name,
        allowed: `a stage name${near === null ? '' : `; did you mean resources.${near}?`}; stages: ${stageNames.join(', ')}`,
      };
    });
}
export type TaskConfig = DefrostConfig['task'];

/** The selection set's size: `task.selection_size`, or by default as many as the stopping set. */
export function selectionSizeOf(task: Pick<TaskConfig, 'selection_size' | 'validation_size'>): number {
  return task.selection_size ?? task.validation_size;
}

/** The task instances of a study: `task_seeds`, or the one task of `seed`. */
export function taskSeedsOf(config: Pick<DefrostConfig, 'seed' | 'task_seeds'>): number[] {
  return config.task_seeds === null ? [config.seed] : [...config.task_seeds];
}
export type SyntheticTaskConfig = z.infer<typeof syntheticTaskSchema>;
export type ImageTaskConfig = z.infer<typeof imageTaskSchema>;
export type ModelConfig = DefrostConfig['model'];
export type SimilarityConfig = DefrostConfig['similarity'];

/**
 * Number of hidden blocks L of the network: the blocks of `source_model` when given (read from
 * its model.json: a DataFileError when it cannot be used, which `checkConfig` reports first), else
 * `model.hidden`.
 */
export function depthOf(config: DefrostConfig): number {
  return studySourceOf(config)?.blocks.blocks.length ?? config.model.hidden.length;
}

/** Transfer depths the sweep covers: `all` = 0..L. */
export function depthsOf(config: DefrostConfig): number[] {
  const L = depthOf(config);
  return config.transfer.depths === 'all' ? Array.from({ length: L + 1 }, (_, i) => i) : [...config.transfer.depths];
}

/** `transfer.protocols.<mode>`, or undefined (always for a prefix mode, which sweeps `transfer.depths`). */
function protocolEntry(
  config: Pick<DefrostConfig, 'transfer'>,
  mode: TransferMode,
): z.output<ReturnType<typeof protocolSchema>> | undefined {
  const entries: Readonly<Partial<Record<TransferMode, z.output<ReturnType<typeof protocolSchema>>>>> = config.transfer.protocols;
  return entries[mode];
}

/** `transfer.protocols.<mode>`'s fixed options, defaults filled. */
export function modeOptionsOf(config: Pick<DefrostConfig, 'transfer'>, mode: TransferMode): Record<string, number> {
  const given: Readonly<Record<string, unknown>> = protocolEntry(config, mode) ?? {};
  return Object.fromEntries(
    Object.entries(declaredOptions(mode)).map(([name, o]) => {
      const value = given[name];
      return [name, typeof value === 'number' ? value : o.default];
    }),
  );
}

/**
 * The settings a mode sweeps (docs/science.md#beyond-freezing-a-prefix): `transfer.protocols.<mode>.settings`
 * (`all`: every value of a whole-number setting), else, for a mode whose setting is the depth and
 * that names no defaults of its own, `transfer.depths`, else the mode's defaults.
 */
export function settingsOf(config: DefrostConfig, mode: TransferMode): number[] {
  const L = depthOf(config);
  const definition = transferModeOf(mode);
  const setting: SweptSetting = settingOf(definition);
  const options = modeOptionsOf(config, mode);
  const given = protocolEntry(config, mode)?.settings;
  if (given === 'all') return setting.all(L, options) ?? [];
  if (given !== undefined) return [...given];
  return definition.setting === undefined ? depthsOf(config) : setting.defaults(L, options);
}

/** Classes of the task's target (and source) problem. */
export function classesOf(task: TaskConfig): number {
  return task.kind === 'synthetic' ? task.classes : task.target.classes.length;
}

/** The correlation sweep; image tasks have one, null, correlation. */
export function correlationsOf(task: TaskConfig): (number | null)[] {
  return task.kind === 'synthetic' ? [...task.correlations] : [null];
}

/** Datasets whose class count is known without reading them. */
const KNOWN_CLASS_COUNTS: Record<string, number> = { 'fashion-mnist': 10, mnist: 10 };

/** Values that occur more than once, each listed at its repeats (linear: one Set, not indexOf per value). */
function duplicates(values: readonly (number | string)[]): (number | string)[] {
  const seen = new Set<number | string>();
  const out: (number | string)[] = [];
  for (const v of values) {
    if (seen.has(v)) out.push(v);
    else seen.add(v);
  }
  return out;
}

/** Cross-field rules; every problem is reported with the key, the value and what is allowed. */
/**
 * The most training runs one config may plan. Planning and keying cost about 0.1 ms per
 * instance, so a sweep far beyond this (say 100,000 target sizes) would keep `status` or `run`
 * busy for many minutes before saying anything; it is refused up front instead, naming the
 * dimensions that multiply (docs/reliability.md, "Bounded work"). `DEFROST_MAX_RUNS` raises it.
 */
export const DEFAULT_MAX_PLANNED_RUNS = 200_000;

function maxPlannedRuns(): number {
  const raw = process.env.DEFROST_MAX_RUNS;
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_MAX_PLANNED_RUNS;
}

/** Training runs the sweep plans (scratch + transfer), counted without planning them. */
export function plannedRunCount(config: DefrostConfig): number {
  const perSeed = 1 + config.transfer.modes.reduce((sum, mode) => sum + settingsOf(config, mode).length, 0);
  return taskSeedsOf(config).length * correlationsOf(config.task).length * config.task.target_sizes.length * config.seeds.length * perSeed;
}

/**
 * The cross-field rules that need nothing but the config (and L): the data feature adds the
 * checks that read files (stages/data/config-checks.ts), so this module stays pure and light.
 */
export function checkConfig(config: DefrostConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { task, model, transfer, similarity } = config;
  const L = depthOf(config);
  const network =
    config.source_model === null ? `model.hidden has ${L} hidden blocks` : `source_model ${config.source_model} has ${L} blocks`;

  if (transfer.depths !== 'all') {
    transfer.depths.forEach((d, i) => {
      if (d > L)
        issues.push({
          key: `transfer.depths[${i}]`,
          value: d,
          allowed: `an integer from 0 to ${L} (${network}), or "all"`,
        });
    });
  }
  for (const mode of PROTOCOLS) {
    const entry = transfer.protocols[mode];
    if (entry === undefined) continue;
    const setting = settingOf(transferModeOf(mode));
    const options = modeOptionsOf(config, mode);
    const key = `transfer.protocols.${mode}.settings`;
    if (entry.settings === 'all' && setting.all(L, options) === null)
      issues.push({ key, value: 'all', allowed: `a list of values of ${setting.caption} (\`all\` only names a whole-number setting)` });
    if (Array.isArray(entry.settings)) {
      entry.settings.forEach((v, i) => {
        const wrong = setting.check(v, L, options);
        if (wrong !== null) issues.push({ key: `${key}[${i}]`, value: v, allowed: `${wrong} (${network})` });
      });
      const dup = duplicates(entry.settings);
      if (dup.length > 0) issues.push({ key, value: dup[0], allowed: 'each value at most once' });
    }
  }
  task.target_sizes.forEach((n, i) => {
    if (n > task.target_pool)
      issues.push({
        key: `task.target_sizes[${i}]`,
        value: n,
        allowed: `at most task.target_pool = ${task.target_pool} (every n is a prefix of the pool)`,
      });
  });
  if (task.target_reference_size > task.target_pool)
    issues.push({
      key: 'task.target_reference_size',
      value: task.target_reference_size,
      allowed: `at most task.target_pool = ${task.target_pool}`,
    });
  for (const [key, list] of [
    ['task.target_sizes', task.target_sizes],
    ['seeds', config.seeds],
    ...(config.task_seeds === null ? [] : [['task_seeds', config.task_seeds] as const]),
    ...(Array.isArray(config.train.learning_rate) ? [['train.learning_rate', config.train.learning_rate] as const] : []),
    ['transfer.modes', transfer.modes],
    ['similarity.measures', similarity.measures],
    ...(task.kind === 'synthetic' ? [['task.correlations', task.correlations] as const] : []),
  ] as const) {
    const dup = duplicates(list as readonly (number | string)[]);
    if (dup.length > 0) issues.push({ key, value: dup[0], allowed: 'each value at most once' });
  }
  if (similarity.probe_size > task.test_size)
    issues.push({
      key: 'similarity.probe_size',
      value: similarity.probe_size,
      allowed: `at most task.test_size = ${task.test_size} (probes are target test inputs)`,
    });
  if (similarity.k >= similarity.probe_size)
    issues.push({
      key: 'similarity.k',
      value: similarity.k,
      allowed: `less than similarity.probe_size = ${similarity.probe_size}`,
    });
  // With source_model the `model` section is not used (the imported network is the architecture).
  if (config.source_model === null)
    model.pool_after.forEach((b, i) => {
      if (b > L) issues.push({ key: `model.pool_after[${i}]`, value: b, allowed: `a block index from 1 to ${L}` });
    });
  if (task.kind === 'image') {
    for (const role of ['source', 'target'] as const) {
      const subset = task[role];
      if (subset === undefined) continue;
      const { dataset, classes } = subset;
      const known = typeof dataset === 'string' ? KNOWN_CLASS_COUNTS[dataset] : undefined;
      classes.forEach((c, i) => {
        if (known !== undefined && c >= known)
          issues.push({
            key: `task.${role}.classes[${i}]`,
            value: c,
            allowed: `a class of ${String(dataset)}: an integer from 0 to ${known - 1}`,
          });
      });
      const dup = duplicates(classes);
      if (dup.length > 0) issues.push({ key: `task.${role}.classes`, value: dup[0], allowed: 'each class at most once' });
    }
  }
  return issues;
}

/** The sweep's size against the limit (checked last, on an otherwise valid config). */
export function runCountIssues(config: DefrostConfig): ConfigIssue[] {
  const runs = plannedRunCount(config);
  const limit = maxPlannedRuns();
  if (runs <= limit) return [];
  return [
    {
      key: 'task.target_sizes',
      value: `${config.task.target_sizes.length} sizes`,
      allowed: `a sweep of at most ${limit} training runs; this one plans ${runs} (correlations x target_sizes x seeds x (1 + the settings of every mode)). Sweep fewer values, or raise the limit with DEFROST_MAX_RUNS`,
    },
  ];
}
