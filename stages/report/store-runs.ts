/**
 * The runs of one config's aggregate as the store holds them, published or not, without running
 * anything: what `defrost report` and the end-of-run text need when `aggregate` itself could not
 * run (an input failed). The plan (inputs with their ids, keys and planned coordinates) comes
 * from the engine (`afterRun`) or from planning the config (`defrost report CONFIG`); only
 * manifests are read here, through the store module.
 */
import { dirname } from 'node:path';
import { publishedManifest } from '../../pipeline/manifest.js';
import { Store } from '../../pipeline/store.js';
import type { Coords, JsonObject } from '../../pipeline/stage.js';
import type { RunRecord } from '../lib/report/types.js';

/** An input of the aggregate: its instance id (the input name) and where it lives. */
export interface AggregateInputRef {
  readonly id: string;
  readonly stage: string;
  readonly key: string;
  /** Coordinates from the plan (an unpublished run has no manifest to read them from). */
  readonly coords?: Coords;
}

/** The aggregate instance of a config, as planned. */
export interface AggregatePlan {
  readonly key: string;
  readonly params: JsonObject;
  readonly inputs: readonly AggregateInputRef[];
}

/** A planned instance as the engine hands it over (`RunInstance`) or `buildDag` returns it. */
interface PlannedRef {
  readonly id: string;
  readonly key: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  readonly inputs: Readonly<Record<string, { readonly id: string; readonly stage: string; readonly key: string }>>;
}

/** The aggregate's plan: its inputs with the coordinates the plan gave them. */
export function aggregatePlanOf(aggregate: PlannedRef, instances: ReadonlyArray<PlannedRef>): AggregatePlan {
  const byId = new Map(instances.map((i) => [i.id, i]));
  return {
    key: aggregate.key,
    params: aggregate.params,
    inputs: Object.values(aggregate.inputs).map((ref) => ({
      id: ref.id,
      stage: ref.stage,
      key: ref.key,
      coords: byId.get(ref.id)?.coords,
    })),
  };
}

/** The store root of a published instance directory `<store>/<stage>/<key>`. */
export function storeRootOf(instanceDir: string): string {
  return dirname(dirname(instanceDir));
}

/**
 * Every planned run of an aggregate, published or not. Published runs carry their manifest's
 * coords, summary and duration; unpublished ones their planned coords.
 */
export function runsOfAggregate(storeRoot: string, plan: AggregatePlan): RunRecord[] {
  const store = new Store(storeRoot);
  return plan.inputs.map((input) => {
    let dir: string | null = null;
    let manifest = null;
    try {
      // Validated: stage and key well-formed, no symlink planted on the way.
      dir = store.instanceDir(input.stage, input.key);
      manifest = publishedManifest(dir, input.key);
    } catch {
      manifest = null;
    }
    if (manifest !== null && dir !== null)
      return {
        id: input.id,
        stage: input.stage,
        coords: manifest.coords,
        published: true,
        summary: manifest.summary,
        durationSeconds: manifest.duration_s,
        dir,
      };
    return { id: input.id, stage: input.stage, coords: input.coords ?? {}, published: false };
  });
}
