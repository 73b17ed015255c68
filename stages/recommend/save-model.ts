/**
 * `recommend --save-model DIR` (docs/your-data.md#the-model-out): after the answer, the `fine-tune`
 * instance at its (mode, l*) runs like any stage (cached, keyed), and its network and
 * `defrost.json` are copied into DIR. DIR must be new or empty, checked before anything runs: a
 * user's files are never overwritten; the copy is made in a sibling directory and renamed into
 * place, so DIR never holds half a model.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../../pipeline/errors.js';
import type { CliContext } from '../../pipeline/cli/context.js';
import type { RunIdentity } from '../../pipeline/active-runs.js';
import type { Store } from '../../pipeline/store.js';
import type { Recommendation } from './answer.js';
import type { RecommendRequest } from './plan.js';

/** The absolute DIR, or a UsageError when it exists and is not an empty directory. */
export function checkSaveDir(dir: string): string {
  const path = resolve(dir);
  if (!existsSync(path)) {
    if (!existsSync(dirname(path))) throw new UsageError(`--save-model ${dir}: its parent directory ${dirname(path)} does not exist`);
    return path;
  }
  if (!statSync(path).isDirectory() || readdirSync(path).length > 0)
    throw new UsageError(`--save-model ${dir}: exists and is not an empty directory; name a new directory (nothing is overwritten)`);
  return path;
}

export interface SaveOptions {
  readonly store: Store;
  /** The recommend run this belongs to: `defrost runs` lists it in progress while the network trains. */
  readonly run: RunIdentity;
  readonly jobs: number;
  readonly backend: string | undefined;
  readonly human: (text: string) => void;
  readonly json: boolean;
}

/** Runs `fine-tune` at the answer and writes DIR; the exit code (0, or the run's failure). */
export async function saveFineTuned(
  ctx: CliContext,
  project: Awaited<ReturnType<CliContext['project']>>,
  request: RecommendRequest,
  answer: Recommendation,
  dir: string,
  options: SaveOptions,
): Promise<number> {
  const { planFineTune } = await import('./plan.js');
  const { buildDag } = await import('../../pipeline/dag.js');
  const { executePlan } = await import('../../pipeline/cli/run.js');
  const { fineTuneStage } = await import('./fine-tune.js');
  const mode = request.modes.find((m) => m === answer.mode) ?? request.modes[0];
  options.human(`--save-model: training the network at l* = ${answer.l_star} (mode ${mode}) on all the data`);
  const instances = buildDag(project, planFineTune(request, mode, answer.l_star));
  const outcome = await executePlan(ctx, instances, {
    store: options.store,
    run: options.run,
    jobs: options.jobs,
    backend: options.backend,
    force: new Set(),
    retries: 0,
    human: options.human,
    json: options.json,
    executor: 'local',
    resources: () => ({ cpus: 1, mem: '4G', time: '01:00:00' }),
    wallStart: performance.now(),
  });
  outcome.release();
  const tuned = instances.find((i) => i.stage === fineTuneStage.name);
  const status = tuned === undefined ? undefined : outcome.result.outcomes.get(tuned.id)?.status;
  if (outcome.exitCode !== 0 || tuned === undefined || (status !== 'executed' && status !== 'cached'))
    return outcome.exitCode === 0 ? 1 : outcome.exitCode;
  const from = options.store.instanceDir(tuned.stage, tuned.key);
  const partial = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  const modelDir = join(from, fineTuneStage.outputs.model.file);
  const files = [...readdirSync(modelDir), fineTuneStage.outputs.record.file];
  for (const f of readdirSync(modelDir)) copyFileSync(join(modelDir, f), join(partial, f));
  copyFileSync(join(from, fineTuneStage.outputs.record.file), join(partial, fineTuneStage.outputs.record.file));
  if (existsSync(dir)) rmdirSync(dir); // empty, checked before anything ran
  renameSync(partial, dir);
  options.human(`Saved the network fine-tuned at l* = ${answer.l_star} to ${dir}: ${files.join(', ')}`);
  return 0;
}
