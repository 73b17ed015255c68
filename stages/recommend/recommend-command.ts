/**
 * `defrost recommend --model M --data D [--folds K] [--modes ...] [--depths ...] [--store DIR]
 * [--json]` (docs/your-data.md): how many blocks of the pre-trained network M to keep frozen for
 * the labelled data D, answered by stratified K-fold cross-validation of every depth and mode and
 * of training from scratch. Checks everything first (exit 2, store untouched), then runs the
 * recommend pipeline like `run` (cached instances are reused), records the run like `run` does
 * (`defrost runs`; `--name`), and prints the short report; with `--json`, the last line of stdout
 * is the answer and the run's summary goes to stderr as `run summary: {...}`.
 *
 * Light at load time: the planner, the engine and the checks are imported in the action.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';
import { wrapWords } from '../../pipeline/terminal-width.js';
import { DEFAULT_TRANSFER_MODE, PROTOCOLS, TRANSFER_MODES } from '../lib/models/transfer-modes/registry.js';
import type { Recommendation } from './answer.js';
import type { RecommendRequest } from './plan.js';
import {
  act,
  addSetOption,
  addStoreOption,
  parseBackend,
  parseJobs,
  requireOptions,
  storeFrom,
  type CliContext,
} from '../../pipeline/cli/context.js';
import type { InstanceSpec } from '../../pipeline/stage.js';
import type { PlannedInstance } from '../../pipeline/dag.js';
import type { Execution } from '../../pipeline/cli/run.js';

interface CommandOptions {
  /** Required (requireOptions). */
  model?: string;
  data?: string;
  folds?: string;
  modes?: string;
  protocols?: string;
  depths?: string;
  seed?: string;
  imageSize?: string;
  channels?: string;
  sourceBlocks?: string;
  labelColumn?: string;
  set: string[];
  store?: string;
  jobs?: string;
  backend?: string;
  json?: boolean;
  fast?: boolean;
  top?: string;
  exhaustive?: boolean;
  name?: string;
  saveModel?: string;
  verbose?: boolean;
}

export function registerRecommendCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('recommend')
    .description('how many blocks of your pre-trained network to keep frozen for your labelled data (cross-validated)')
    // Required, but checked in the action (requireOptions): commander would report a missing one
    // before a misspelt one (`--dat`), and then the nearest name is never said.
    .option('--model <file>', 'the pre-trained network: an ONNX file (torch.onnx.export) or a TensorFlow.js layers model.json (required)')
    .option(
      '--data <path>',
      'labelled data: .npy (or a directory with features.npy + labels.npy), .arrow, .csv, or an image folder (required)',
    )
    .option('--folds <k>', 'cross-validation folds (stratified)', '5')
    .option(
      '--modes <list>',
      `transfer modes, comma-separated: ${TRANSFER_MODES.join(', ')} (the first one answers)`,
      DEFAULT_TRANSFER_MODE,
    )
    .option(
      '--protocols <list>',
      `also compare protocols beyond the frozen prefix at their default settings: "all" (${PROTOCOLS.join(', ')}) or a comma-separated list; the answer then names the best protocol and setting (docs/science.md#beyond-freezing-a-prefix)`,
    )
    .option('--depths <list>', 'depths to try, comma-separated, or "all"', 'all')
    .option('--seed <n>', 'seed of the folds, initialisations and batch order', '0')
    .option('--image-size <HxW>', 'resize images to this size (default: the network input size)')
    .option('--channels <n>', 'image channels: 1 or 3 (default: the network input)')
    .option('--source-blocks <json>', 'name the blocks: JSON lists of layer names, e.g. [["conv1","pool1"],["dense1"]]')
    .option(
      '--label-column <name>',
      'CSV and Arrow tables: the column holding the labels (default: the first of label, labels, target, class, y)',
    )
    .option('--jobs <n>', 'instances at a time (default: number of cores)')
    .option('--backend <backend>', 'compute backend: auto|tensorflow|wasm-blas|wasm|cpu')
    .option('--verbose', 'also say why faster compute backends were not used')
    .option('--json', 'print the answer as one JSON object on the last line of stdout')
    .option('--name <name>', 'name this run in its record (see `defrost runs`)')
    .option('--fast', 'rank the depths with a predictor and cross-validate only the top few plus scratch (docs/prediction.md)')
    .option('--top <n>', 'with --fast: how many of the ranked depths to train (1 to 3)', '2')
    .option(
      '--save-model <dir>',
      'train the network at l* on all the data and write it (ONNX, or TensorFlow.js layers) with defrost.json into this new directory',
    )
    .option('--exhaustive', 'train every depth on every fold (no early elimination of depths that already trail)');
  addSetOption(cmd, 'override a key of the training recipe, e.g. train.learning_rate=0.001 (repeatable; train.* keys only)');
  addStoreOption(cmd);
  cmd.action(act(ctx, (options: CommandOptions) => recommendCommand(ctx, options)));
}

async function recommendCommand(ctx: CliContext, given: CommandOptions): Promise<number> {
  const options = requireOptions(given, { model: '--model <file>', data: '--data <path>' });
  const wallStart = performance.now();
  const startDate = new Date();
  const human = options.json ? ctx.err : ctx.out;
  const jobs = parseJobs(options.jobs);
  const { checkNameFree, checkRunName, newRunId, readRunRecords, recordedLine } = await import('../../pipeline/run-records.js');
  const { runningRuns } = await import('../../pipeline/active-runs.js');
  const name = options.name === undefined ? null : checkRunName(options.name);
  const { prepareRecommend } = await import('./request.js');
  const { planRecommendRuns } = await import('./plan.js');
  const { buildDag } = await import('../../pipeline/dag.js');
  const { executePlan } = await import('../../pipeline/cli/run.js');
  const { recordExecution } = await import('../../pipeline/run-record-build.js');
  const { recommendationJson } = await import('./answer.js');
  const { recommendStage } = await import('./recommend.js');
  const { recommendAnswer, recommendCommandLine, recommendParams } = await import('./run-record.js');

  const top = options.fast === true ? parseTop(options.top ?? '2') : 0;
  const { checkSaveDir, saveFineTuned } = await import('./save-model.js');
  const saveDir = options.saveModel === undefined ? null : checkSaveDir(options.saveModel);
  const project = await ctx.project();
  const backend = parseBackend(options.backend, project.backends);
  const { request, depths, notes } = await prepareRecommend(options);
  for (const note of notes) ctx.err(wrapWords(note, '', '  ').join('\n'));
  const fast = options.fast === true ? await rankForFast(request, depths, top, options.backend, human) : null;
  const trained = fast?.trained ?? depths;
  const store = storeFrom(options, [options.data, options.model]);
  if (name !== null) checkNameFree(name, readRunRecords(store.root).records, runningRuns(store));
  // Recorded like `run` (docs/your-data.md#run-records): the request stands in for a config.
  const recorded = { requested: depths, fastTop: fast === null ? null : top, trained, exhaustive: options.exhaustive === true };
  const configLine = recommendCommandLine(request, recorded);
  const run = { id: newRunId(startDate), name, date: startDate.toISOString(), config: configLine, overrides: [...options.set] };
  const execute = (plan: readonly InstanceSpec[]): Promise<{ instances: PlannedInstance[]; execution: Execution }> => {
    const instances = buildDag(project, plan);
    return executePlan(ctx, instances, {
      store,
      run,
      jobs,
      backend,
      force: new Set(),
      retries: 0,
      human,
      json: options.json === true,
      verbose: options.verbose === true,
      executor: 'local',
      // Runs on the local pool: cluster resources are never asked for.
      resources: () => ({ cpus: 1, mem: '4G', time: '01:00:00' }),
      wallStart,
    }).then((execution) => ({ instances, execution }));
  };
  const { runRace } = await import('./race-rounds.js');
  const { instances, execution: outcome } =
    options.exhaustive === true
      ? await execute(planRecommendRuns(request, trained))
      : await runRace(request, trained, { execute, store, human });
  const answer = instances.find((i) => i.stage === recommendStage.name);
  const answerPublished = answer !== undefined && ['executed', 'cached'].includes(outcome.result.outcomes.get(answer.id)?.status ?? '');
  const dir = answer !== undefined && answerPublished ? store.instanceDir(answer.stage, answer.key) : null;
  const outputs = recommendStage.outputs;
  const result = dir === null ? null : (JSON.parse(readFileSync(join(dir, outputs.recommendation.file), 'utf8')) as Recommendation);
  const record = recordExecution(
    store,
    instances,
    outcome,
    {
      project,
      id: run.id,
      configFile: configLine,
      configPath: '',
      overrides: options.set,
      name,
      date: startDate,
      config: recommendParams(request, recorded),
      executor: 'local',
      jobs,
      answer: result === null ? null : recommendAnswer(result),
    },
    human,
  );
  if (options.json) human(`run summary: ${JSON.stringify({ ...outcome.summary, run: record?.id ?? null })}`);
  outcome.release();
  if (outcome.exitCode !== 0 || dir === null || result === null) {
    if (record) human(recordedLine(record));
    return outcome.exitCode === 0 ? 1 : outcome.exitCode;
  }
  human(readFileSync(join(dir, outputs.report.file), 'utf8').trimEnd());
  human(wrapWords(`Details: ${join(dir, outputs.recommendation.file)}`).join('\n'));
  if (record) human(recordedLine(record));
  if (saveDir !== null) {
    const saved = await saveFineTuned(ctx, project, request, result, saveDir, {
      store,
      run,
      jobs,
      backend,
      human,
      json: options.json === true,
    });
    if (saved !== 0) return saved;
  }
  if (fast === null) {
    if (options.json) ctx.out(recommendationJson(result));
    return 0;
  }
  const { fastVerdict } = await import('../lib/predictors/fast.js');
  const verdict = fastVerdict(fast.ranked, fast.trained, result);
  human(
    wrapWords(
      `--fast (predictor ${fast.predictor}): trained depths ${fast.trained.join(', ')} and scratch; ${verdict.reason}`,
      '',
      '  ',
    ).join('\n'),
  );
  if (options.json) {
    const answerJson = JSON.parse(recommendationJson(result)) as Record<string, unknown>;
    const fastJson = {
      predictor: fast.predictor,
      ranked: fast.ranked,
      trained: fast.trained,
      confirmed: verdict.confirmed,
      reason: verdict.reason,
    };
    ctx.out(JSON.stringify({ ...answerJson, fast: fastJson }));
  }
  return 0;
}

/** `--top`: at most 3 depths, so `--fast` stays a fraction of the full cross-validation. */
function parseTop(text: string): number {
  const top = Number(text);
  if (!Number.isInteger(top) || top < 1 || top > 3) throw new UsageError(`--top: got ${JSON.stringify(text)}; allowed: 1, 2 or 3`);
  return top;
}

/** A leave-one-out accuracy over `rows` samples with its binomial standard error. */
function accuracyWithError(p: number, rows: number): string {
  const se = Math.sqrt((p * (1 - p)) / Math.max(1, rows));
  return `${(100 * p).toFixed(1)}% ± ${(100 * se).toFixed(1)}`;
}

interface FastPlan {
  readonly predictor: string;
  /** The requested depths, best predicted first. */
  readonly ranked: number[];
  /** The top of `ranked` that is cross-validated. */
  readonly trained: number[];
}

/** `--fast`: scores the requested depths with the predictor and keeps the top `--top`. */
async function rankForFast(
  request: RecommendRequest,
  depths: readonly number[],
  top: number,
  backendOption: string | undefined,
  human: (line: string) => void,
): Promise<FastPlan> {
  const { fastScores, FAST_PREDICTOR } = await import('./fast-scores.js');
  const { rankDepths } = await import('../lib/predictors/fast.js');
  // The forward pass runs in this process, on the backend the workers would pick.
  const { parseBackendChoice, selectBackend } = await import('../lib/models/backend.js');
  await selectBackend(parseBackendChoice(backendOption ?? process.env.DEFROST_BACKEND, '--backend'));
  const { scores: values, rows } = await fastScores(request, depths);
  const byDepth: (number | null)[] = new Array<number | null>(Math.max(...depths) + 1).fill(null);
  depths.forEach((d, i) => (byDepth[d] = values[i]));
  const ranked = rankDepths(byDepth).filter((d) => depths.includes(d));
  const trained = ranked.slice(0, top);
  const line =
    `--fast: predictor ${FAST_PREDICTOR} (leave-one-out nearest-centroid accuracy of frozen features) ranks depths ` +
    ranked.map((d) => `${d} (${accuracyWithError(byDepth[d] ?? Number.NaN, rows)})`).join(', ') +
    `; training depths ${trained.join(', ')} and scratch`;
  human(wrapWords(line, '', '  ').join('\n'));
  return { predictor: FAST_PREDICTOR, ranked, trained };
}
