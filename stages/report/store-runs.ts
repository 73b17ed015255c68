/**
 * Finds the runs of one config's aggregate in the store, published or not, without running
 * anything: what `defrost report` and the end-of-run text need when `aggregate` itself could not
 * run (an input failed). Reads only JSON (manifests and plan records), so it is cheap to load.
 *
 * The aggregate's inputs (every sweep scratch, transfer and similarity instance, by id and key)
 * come either from the planned DAG (`defrost report CONFIG`) or from the aggregate's plan record,
 * which `run` writes under `<store>/.plans/` for every planned instance before anything runs.
 */
import { dirname, join } from 'node:path';
import { publishedManifest } from '../../pipeline/manifest.js';
import { Store } from '../../pipeline/store.js';
import { idOfInputName } from '../../pipeline/plan-builder.js';
import type { Coords, JsonObject } from '../../pipeline/stage.js';
import type { RunRecord } from './types.js';

/** An input of the aggregate: its instance id (the input name) and where it lives. */
export interface AggregateInputRef {
  readonly id: string;
  readonly stage: string;
  readonly key: string;
  /** Coordinates from the plan, when the caller has it; else read from the store. */
  readonly coords?: Coords;
}

/** The aggregate instance of a config, as planned. */
export interface AggregatePlan {
  readonly key: string;
  readonly params: JsonObject;
  readonly inputs: readonly AggregateInputRef[];
}

interface PlanRecordLike {
  readonly stage: string;
  readonly key: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  readonly inputs: Readonly<Record<string, { stage: string; key: string }>>;
}

/**
 * A plan record checked by the store: a regular file, inside the store, hashing to its key. An
 * edited or planted record (a key like `x/../../..`) is never read.
 */
function readPlanRecord(storeRoot: string, stage: string, key: string): PlanRecordLike | null {
  try {
    const checked = new Store(storeRoot).checkPlanRecord(stage, key);
    return checked.ok ? checked.record : null;
  } catch {
    return null;
  }
}

/**
 * Coordinates read back from a readable instance id, `stage[k=v,...]` (see `instanceId` in
 * plan.ts): the last resort for a run that never published and has no plan record.
 */
export function coordsFromId(id: string): Coords {
  const m = /^[^[]+\[(.*)\]$/.exec(id);
  if (m === null) return {};
  const coords: Record<string, string | number | null> = {};
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const value = part.slice(eq + 1);
    coords[part.slice(0, eq)] = value === 'none' ? null : value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return coords;
}

/** The store root of a published instance directory `<store>/<stage>/<key>`. */
export function storeRootOf(instanceDir: string): string {
  return dirname(dirname(instanceDir));
}

/**
 * Every planned run of an aggregate, published or not. Published runs carry their manifest's
 * coords, summary and duration; unpublished ones their plan record's coords (or none).
 */
export function runsOfAggregate(storeRoot: string, plan: AggregatePlan): RunRecord[] {
  const store = new Store(storeRoot);
  return plan.inputs.map((input) => {
    const dir = join(storeRoot, input.stage, input.key);
    let manifest = null;
    try {
      // Validated: stage and key well-formed, no symlink planted on the way.
      manifest = publishedManifest(store.instanceDir(input.stage, input.key), input.key);
    } catch {
      manifest = null;
    }
    if (manifest !== null)
      return {
        id: input.id,
        stage: input.stage,
        coords: manifest.coords,
        published: true,
        summary: manifest.summary,
        durationSeconds: manifest.duration_s,
        dir,
      };
    const coords = input.coords ?? readPlanRecord(storeRoot, input.stage, input.key)?.coords ?? coordsFromId(input.id);
    return { id: input.id, stage: input.stage, coords, published: false };
  });
}

/**
 * The aggregate plan record that a run with these published instances belongs to: among the
 * recorded aggregates whose inputs include every published transfer and similarity instance of
 * the run (those are always aggregate inputs), the one with the fewest inputs. null when none.
 */
export function findAggregatePlan(storeRoot: string, published: readonly { stage: string; key: string }[]): AggregatePlan | null {
  const mustHave = published.filter((p) => p.stage === 'transfer' || p.stage === 'similarity').map((p) => p.key);
  if (mustHave.length === 0) return null;
  let records: { stage: string; key: string }[];
  try {
    records = new Store(storeRoot).planRecords().filter((r) => r.stage === 'aggregate');
  } catch {
    return null; // a store with a planted symlink: no partial report
  }
  let best: AggregatePlan | null = null;
  for (const { key } of records) {
    const record = readPlanRecord(storeRoot, 'aggregate', key);
    if (record === null) continue;
    const keys = new Set(Object.values(record.inputs).map((i) => i.key));
    if (!mustHave.every((k) => keys.has(k))) continue;
    if (best === null || keys.size < best.inputs.length)
      best = {
        key: record.key,
        params: record.params,
        inputs: Object.entries(record.inputs).map(([name, ref]) => ({ id: idOfInputName(name), stage: ref.stage, key: ref.key })),
      };
  }
  return best;
}
