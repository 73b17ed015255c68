/**
 * What the run record of a `defrost recommend` says (docs/your-data.md#run-records): a recommend
 * has no config file, so its record names the request instead — the command line in `config`,
 * the request as params (what `runs show` lists and `runs diff` compares, and what
 * `config_hash` hashes: equal hashes, equal requests) and the answer with its uncertainty.
 * The record itself is built and written by the engine's run-record machinery
 * (pipeline/run-record-build.ts), as for `run`.
 */
import type { RunAnswer } from '../../pipeline/project.js';
import type { JsonObject, JsonValue } from '../../pipeline/stage.js';
import type { Recommendation } from './answer.js';
import type { RecommendRequest } from './plan.js';

/** How the depths were chosen: all requested ones, or `--fast` with the predictor's top. */
export interface RecordedDepths {
  /** The depths asked for (`--depths`). */
  readonly requested: readonly number[];
  /** `--top` with `--fast`, else null. */
  readonly fastTop: number | null;
  /** The depths cross-validated (all requested ones, or the top of the ranking with `--fast`). */
  readonly trained: readonly number[];
  /** `--exhaustive`: every depth trained every fold (else early elimination, stages/lib/race.ts). */
  readonly exhaustive: boolean;
}

/** `recommend --model M --data D --folds K --modes ... --depths ... --seed N [--fast --top T] [--exhaustive]`. */
export function recommendCommandLine(request: RecommendRequest, depths: RecordedDepths): string {
  return [
    'recommend',
    `--model ${request.model.label}`,
    `--data ${request.data.label}`,
    ...(request.data.spec.label_column === undefined ? [] : [`--label-column ${request.data.spec.label_column}`]),
    `--folds ${request.folds}`,
    `--modes ${request.modes.join(',')}`,
    ...(request.protocols.length === 0 ? [] : [`--protocols ${request.protocols.join(',')}`]),
    `--depths ${depths.requested.join(',')}`,
    `--seed ${request.seed}`,
    ...(depths.fastTop === null ? [] : [`--fast --top ${depths.fastTop}`]),
    ...(depths.exhaustive ? ['--exhaustive'] : []),
  ].join(' ');
}

/** The request as the record's params: the files by path and sha256, the protocol, the recipe. */
export function recommendParams(request: RecommendRequest, depths: RecordedDepths): JsonObject {
  const { data, model } = request;
  return {
    model: { path: model.path, sha256: model.sha256, blocks: model.blocks },
    data: {
      ...data.spec,
      sha256: data.sha256,
      images: { size: data.images.size ? [data.images.size[0], data.images.size[1]] : null, channels: data.images.channels },
    },
    folds: request.folds,
    modes: [...request.modes],
    ...(request.protocols.length === 0 ? {} : { protocols: [...request.protocols] }),
    depths: [...depths.requested],
    fast: depths.fastTop === null ? null : { top: depths.fastTop, trained: [...depths.trained] },
    elimination: !depths.exhaustive,
    seed: request.seed,
    train: JSON.parse(JSON.stringify(request.train)) as JsonValue,
  };
}

/**
 * The answer as the record keeps it: l*, its mode, the plausible set, and both 95% intervals;
 * l*'s plausible set is also what `runs diff` judges a changed l* by.
 */
export function recommendAnswer(r: Recommendation): RunAnswer {
  return {
    values: {
      l_star: r.l_star,
      mode: r.mode,
      plausible: [...r.plausible],
      accuracy: [...r.accuracy],
      scratch_accuracy: [...r.scratch_accuracy],
      ...(r.protocol === undefined
        ? {}
        : { protocol: { mode: r.protocol.mode, setting: r.protocol.setting, accuracy: [...r.protocol.accuracy] } }),
    },
    plausible: { l_star: [...r.plausible] },
  };
}
