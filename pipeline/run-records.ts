/**
 * Run records: what every `defrost run` did, kept in the store so that a result can always be
 * traced to the config, overrides, code and machine that produced it, and so that `gc` knows
 * what users still need (docs/engine.md#run-records).
 *
 *   <store>/.run-records/<id>.json     one file per run, written once when the run ends
 *
 * A record is plain JSON (no integrity seal: it describes results, it is not one). Ids sort by
 * date: `20261130-061502-3f2a` (UTC date, time, 4 random hex digits).
 *
 * A record may have been edited by anyone who can write the store, so it is read like any
 * outside input: a regular file of bounded size (fsutil.readRegularFile), validated in full by
 * the schema below; one that fails is *damaged* — listed, never obeyed, never deleted by the
 * engine — and `gc` then keeps everything (it cannot know what that run needed). Its text is
 * shown escaped (cli/terminal-text.ts).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { nearestName } from './nearest-name.js';
import { readRegularText, writeFileAtomic } from './fsutil.js';
import { internalPath } from './store-dirs.js';
import type { JsonObject, JsonValue } from './stage.js';

/** A record above this size is damaged, not read (one of a 100,000-instance study is ~5 MB). */
export const RUN_RECORD_MAX_BYTES = 64 * 1024 * 1024;

const ID = /^\d{8}-\d{6}-[0-9a-f]{4}$/;
/** What `run --name` accepts: something a shell and a file system take without quoting. */
const NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** `stage/key` of an instance. */
const INSTANCE_ID = /^[a-z0-9][a-z0-9_-]*\/[0-9a-f]{16}$/;

export const runRecordSchema = z.object({
  id: z.string().regex(ID),
  name: z.string().regex(NAME).nullable(),
  /** ISO date of the run's start. */
  date: z.iso.datetime(),
  /**
   * The config path as given, and absolute. A command that plans without a config file
   * (`recommend`) records its command line in `config` and '' in `config_path`.
   */
  config: z.string(),
  config_path: z.string(),
  overrides: z.array(z.string()),
  /** sha256 of the resolved (validated, defaulted) config: equal hashes mean equal studies. */
  config_hash: z.string(),
  /** The resolved config itself, for `runs show` and `runs diff`. */
  params: z.record(z.string(), jsonValue),
  version: z.string(),
  commit: z.string().nullable(),
  /** Compute backend(s) of the instances this run executed; null when it executed none. */
  backend: z.string().nullable(),
  executor: z.string(),
  jobs: z.number().int(),
  threads: z.number().int(),
  status: z.enum(['finished', 'failed', 'interrupted']),
  stages: z.number().int(),
  executed: z.number().int(),
  cached: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  executed_by_stage: z.record(z.string(), z.number()),
  wall_s: z.number(),
  /** The headline answer as flat label -> value pairs (the project's `answer` hook). */
  answer: z.record(z.string(), jsonValue).nullable(),
  /**
   * The plausible set of each answer value that is a chosen depth (`RunAnswer.plausible`); absent
   * in records of older versions, where `runs diff` cannot judge a change.
   */
  plausible: z.record(z.string(), z.array(z.number())).nullable().optional(),
  /** `stage/key` of every instance the run planned: what it needs, and what `gc` keeps. */
  instances: z.array(z.string().regex(INSTANCE_ID)),
  /** `stage/key` of the instances this run computed. */
  executed_instances: z.array(z.string().regex(INSTANCE_ID)),
});

export type RunRecord = z.infer<typeof runRecordSchema>;

/** A record without what only the store needs: what `runs --json` prints. */
export type RunListing = Omit<RunRecord, 'instances' | 'executed_instances' | 'params' | 'config_path'>;

/** `<store>/.run-records[/<name>]`, through the store's checked accessor (store-dirs.ts). */
export function runRecordsDir(storeRoot: string, ...name: string[]): string {
  return internalPath(storeRoot, '.run-records', ...name);
}

/** A new run id for a run that started at `date`. */
export function newRunId(date: Date): string {
  const iso = date.toISOString(); // 2026-11-30T06:15:02.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

/** `--name`: checked before anything runs (exit 2). */
export function checkRunName(name: string): string {
  if (!NAME.test(name))
    throw new UsageError(
      `--name: got ${JSON.stringify(name)}; allowed: a letter, then up to 63 letters, digits, ".", "_" or "-" (e.g. bigger-n)`,
    );
  if (ID.test(name)) throw new UsageError(`--name: ${JSON.stringify(name)} looks like a run id; choose another name`);
  return name;
}

/**
 * `--name` names one run: a name a recorded or running run already has is refused before anything
 * runs (exit 2), so that `runs show NAME`, `inspect NAME` and `gc --keep-last` mean one run.
 */
export function checkNameFree(
  name: string,
  records: readonly RunRecord[],
  running: readonly { readonly id: string; readonly name: string | null; readonly date: string }[],
): void {
  const taken = records.find((r) => r.name === name) ?? running.find((r) => r.name === name);
  if (taken === undefined) return;
  const isRunning = !records.some((r) => r.id === taken.id);
  throw new UsageError(
    `--name ${name}: run ${taken.id} (${taken.date.slice(0, 16).replace('T', ' ')} UTC${isRunning ? ', running now' : ''}) is already named ${name}; ` +
      `choose another name${isRunning ? '' : `, or drop that record first with \`defrost runs forget ${name}\``}`,
  );
}

export function writeRunRecord(storeRoot: string, record: RunRecord): string {
  // The accessor refuses a planted symlink or file as `.run-records` (exit 2).
  const path = runRecordsDir(storeRoot, `${record.id}.json`);
  writeFileAtomic(path, `${JSON.stringify(record, null, 1)}\n`);
  return path;
}

export interface ReadRecords {
  /** Valid records, oldest first. */
  readonly records: RunRecord[];
  /** Files that are not valid records (named, never deleted by the engine). */
  readonly damaged: string[];
}

export function readRunRecords(storeRoot: string): ReadRecords {
  const dir = runRecordsDir(storeRoot);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { records: [], damaged: [] };
  }
  const records: RunRecord[] = [];
  const damaged: string[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    // Temp files of a record being written are not records (nor damage).
    if (!name.endsWith('.json')) continue;
    try {
      // A regular file of bounded size only: a planted symlink, FIFO or /dev/zero is never read.
      const parsed = runRecordSchema.safeParse(JSON.parse(readRegularText(path, RUN_RECORD_MAX_BYTES)));
      if (parsed.success && `${parsed.data.id}.json` === name) records.push(parsed.data);
      else damaged.push(path);
    } catch {
      damaged.push(path);
    }
  }
  records.sort((a, b) => (a.date === b.date ? a.id.localeCompare(b.id) : a.date.localeCompare(b.date)));
  return { records, damaged };
}

/**
 * Finds a run by reference: its id, `last`, its name (the latest run of that name), or a unique
 * prefix of an id or name. Anything else is a usage error that lists what exists.
 */
export function findRun(records: readonly RunRecord[], ref: string): RunRecord {
  if (records.length === 0) throw new UsageError('no runs are recorded in this store yet: `defrost run CONFIG` records one');
  if (ref === 'last' || ref === 'latest') return records[records.length - 1]!;
  const exact = records.find((r) => r.id === ref);
  if (exact) return exact;
  const named = records.filter((r) => r.name === ref);
  if (named.length > 0) return named[named.length - 1]!;
  const prefixed = records.filter((r) => r.id.startsWith(ref) || (r.name !== null && r.name.startsWith(ref)));
  const distinct = [...new Set(prefixed.map((r) => r.name ?? r.id))];
  if (distinct.length === 1) return prefixed[prefixed.length - 1]!;
  if (distinct.length > 1)
    throw new UsageError(
      `run ${JSON.stringify(ref)} is ambiguous: ${distinct.slice(0, 10).join(', ')}${distinct.length > 10 ? ', ...' : ''}`,
    );
  const near = nearestName(
    ref,
    records.flatMap((r) => (r.name === null ? [r.id] : [r.id, r.name])),
  );
  throw new UsageError(
    `no recorded run ${JSON.stringify(ref)}${near === null ? '' : `; did you mean ${near}?`}; recorded: ${records
      .slice(-5)
      .map((r) => r.name ?? r.id)
      .join(', ')}${records.length > 5 ? ` (and ${records.length - 5} older; see \`defrost runs\`)` : ''}`,
  );
}

/** What a command says once its run is recorded: where to look at it. */
export function recordedLine(record: RunRecord): string {
  const ref = record.name ?? record.id;
  return `Run ${record.id}${record.name ? ` (${record.name})` : ''} recorded: \`defrost runs show ${ref}\``;
}

export function forgetRun(storeRoot: string, record: RunRecord): void {
  rmSync(runRecordsDir(storeRoot, `${record.id}.json`), { force: true });
}

export function listingOf(record: RunRecord): RunListing {
  const { instances: _i, executed_instances: _e, params: _p, config_path: _c, ...listing } = record;
  return listing;
}

/** `a.b.c` -> value for every leaf of a JSON object (lists stay whole, as one value). */
export function flattenParams(value: JsonObject, prefix = ''): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, v] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) Object.assign(out, flattenParams(v, path));
    else out[path] = v;
  }
  return out;
}
