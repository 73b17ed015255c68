/**
 * Artifact addresses (docs/engine.md#addresses): the ways a command that takes one instance
 * (`inspect`, `export`) or lists some (`ls`) lets a user name it without copying a hex key.
 *
 *   transfer[correlation=0.8,n=100,depth=2,seed=0]   a stage and coordinates, as instance ids
 *                                                    print; any subset that names one instance
 *   transfer[depth=2]@bigger-n                       the same, among the instances of one run
 *   aggregate                                        a stage alone (unique in the store)
 *   last, bigger-n, 20261206-053153-845f             a run: its result (`last`: the latest run)
 *   1faf1c7, artifacts/transfer/1faf1c7a260a894f     a key or unique key prefix; a directory
 *
 * Which reading wins, in order: a path (has `/` or starts with `.`); brackets or `@` (a stage
 * address); `last`, a run's exact id or name; a stage name; hex digits (a key prefix); else a
 * unique prefix of a run's id or name. A run's *result* is the last instance of its plan: plans
 * are in dependency order, so that is the instance reading the others (a study's aggregate,
 * recommend's answer). Ambiguity is a usage error (exit 2) listing the candidates and the
 * coordinates that tell them apart; an unknown stage or coordinate suggests the nearest name.
 */
import { UsageError } from './errors.js';
import { nearestName } from './nearest-name.js';
import { findRun, readRunRecords, type RunRecord } from './run-records.js';
import type { Coords } from './stage.js';
import type { PublishedInstance, Store } from './store.js';

const STAGE_ADDRESS = /^([a-z0-9][a-z0-9_-]*)(?:\[([^\]]*)\])?(?:@(.+))?$/;
const HEX = /^[0-9a-f]{1,16}$/;

/** One `name=value` condition of a stage address. */
interface Condition {
  readonly name: string;
  readonly value: string;
}

/** What an address names, before it is looked up in a store. */
export type Address =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'stage'; readonly stage: string; readonly conditions: readonly Condition[]; readonly run: string | null }
  | { readonly kind: 'run'; readonly run: RunRecord }
  | { readonly kind: 'key'; readonly prefix: string };

function parseConditions(text: string, ref: string): Condition[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq <= 0 || value === '')
      throw new UsageError(`${ref}: "${part}" is not a coordinate; write stage[name=value,...], e.g. transfer[n=100,depth=2]`);
    return { name, value };
  });
}

/** Reads `ref` as an address (see the module comment for the order). */
export function parseAddress(ref: string, records: readonly RunRecord[], stages: readonly string[]): Address {
  if (ref.includes('/') || ref.startsWith('.')) return { kind: 'path', path: ref };
  const stageForm = STAGE_ADDRESS.exec(ref);
  if (stageForm && (ref.includes('[') || ref.includes('@')))
    return { kind: 'stage', stage: stageForm[1]!, conditions: parseConditions(stageForm[2] ?? '', ref), run: stageForm[3] ?? null };
  if (ref.includes('[') || ref.includes(']'))
    throw new UsageError(`${JSON.stringify(ref)} is not an address; write stage[name=value,...], e.g. transfer[n=100,depth=2]`);
  const exactRun = records.find((r) => r.id === ref || r.name === ref);
  if (ref === 'last' || ref === 'latest' || exactRun) return { kind: 'run', run: findRun(records, ref) };
  if (stages.includes(ref)) return { kind: 'stage', stage: ref, conditions: [], run: null };
  if (HEX.test(ref)) return { kind: 'key', prefix: ref };
  const runPrefix = records.some((r) => r.id.startsWith(ref) || (r.name ?? '').startsWith(ref));
  if (runPrefix) return { kind: 'run', run: findRun(records, ref) };
  const near = nearestName(ref, [...stages, ...records.flatMap((r) => (r.name === null ? [] : [r.name])), 'last']);
  throw new UsageError(
    `no instance or run ${JSON.stringify(ref)}${near === null ? '' : `; did you mean ${near}?`}; an address is a key (or unique prefix), ` +
      '`last`, a run id or name, or stage[name=value,...] (docs/engine.md#addresses)',
  );
}

function coordMatches(value: Coords[string] | undefined, text: string): boolean {
  if (value === undefined) return false;
  if (value === null) return text === 'null';
  if (typeof value === 'number') return text.trim() !== '' && Number(text) === value;
  return value === text;
}

/** `correlation=0.8 n=100`: the coordinates in which `instances` differ. */
function differingCoords(instances: readonly PublishedInstance[]): string[] {
  const names = [...new Set(instances.flatMap((i) => Object.keys(i.manifest.coords)))];
  return names.filter((n) => new Set(instances.map((i) => JSON.stringify(i.manifest.coords[n] ?? null))).size > 1);
}

/** The published instances a stage address names (any number; `resolveAddress` wants one). */
function matchStage(store: Store, address: Extract<Address, { kind: 'stage' }>, records: readonly RunRecord[]): PublishedInstance[] {
  const stages = store.stageNames();
  if (!stages.includes(address.stage)) {
    const near = nearestName(address.stage, stages);
    throw new UsageError(
      `no stage ${JSON.stringify(address.stage)} in the store ${store.root}${near === null ? '' : `; did you mean ${near}?`}; stages: ${stages.join(', ') || '(none yet)'}`,
    );
  }
  let instances = store.scan(address.stage).published;
  if (address.run !== null) {
    const run = findRun(records, address.run);
    const planned = new Set(run.instances);
    instances = instances.filter((i) => planned.has(`${i.stage}/${i.key}`));
  }
  const known = [...new Set(instances.flatMap((i) => Object.keys(i.manifest.coords)))];
  for (const c of address.conditions)
    if (!known.includes(c.name)) {
      const near = nearestName(c.name, known);
      throw new UsageError(
        `${address.stage} has no coordinate ${JSON.stringify(c.name)}${near === null ? '' : `; did you mean ${near}?`}; its coordinates: ${known.join(', ') || '(none)'}`,
      );
    }
  return instances.filter((i) => address.conditions.every((c) => coordMatches(i.manifest.coords[c.name], c.value)));
}

/** The last instance of a run's plan (its result), published. */
function runResult(store: Store, run: RunRecord): PublishedInstance {
  const last = run.instances[run.instances.length - 1];
  const label = run.name ?? run.id;
  if (last === undefined) throw new UsageError(`run ${label} planned no instances`);
  const [stage, key] = last.split('/') as [string, string];
  const found = store.scan(stage).published.find((p) => p.key === key);
  if (found === undefined)
    throw new UsageError(
      `the result of run ${label} (${stage} ${key}) is not in the store ${store.root}${run.status === 'finished' ? ' (deleted by gc?)' : ` (the run ${run.status})`}`,
    );
  return found;
}

function listCandidates(candidates: readonly PublishedInstance[]): string {
  const sorted = [...candidates].sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
  const shown = sorted.slice(0, 10).map((c) => `  ${c.manifest.id} ${c.key}`);
  if (candidates.length > 10) shown.push(`  ... and ${candidates.length - 10} more (\`defrost ls\` lists them)`);
  return shown.join('\n');
}

/** Published instances an address names: what `ls ADDRESS` lists (a run: every instance it planned). */
export function matchAddress(store: Store, ref: string): PublishedInstance[] {
  const { records } = readRunRecords(store.root);
  const address = parseAddress(ref, records, store.stageNames());
  switch (address.kind) {
    case 'path':
    case 'key':
      return [store.resolve(ref)];
    case 'stage':
      return matchStage(store, address, records);
    case 'run': {
      const planned = new Set(address.run.instances);
      return store.scan().published.filter((p) => planned.has(`${p.stage}/${p.key}`));
    }
  }
}

/**
 * The one published instance an address names, checked against its manifest (a damaged
 * instance is refused, as for a key). Ambiguous or empty matches are usage errors.
 */
export function resolveAddress(store: Store, ref: string): PublishedInstance {
  const { records } = readRunRecords(store.root);
  const address = parseAddress(ref, records, store.stageNames());
  if (address.kind === 'path' || address.kind === 'key') return store.resolve(ref);
  if (address.kind === 'run') return store.resolve(runResult(store, address.run).dir);
  const matches = matchStage(store, address, records);
  if (matches.length === 0)
    throw new UsageError(
      `no published instance matches ${ref} in the store ${store.root} (\`defrost ls --stage ${address.stage}\` lists them)`,
    );
  if (matches.length > 1) {
    const differ = differingCoords(matches).filter((n) => !address.conditions.some((c) => c.name === n));
    const hint =
      differ.length > 0
        ? `add coordinates that tell them apart: ${differ.join(', ')}`
        : 'they share every coordinate (made by different configs): add @RUN (a run id or name) or give a key';
    throw new UsageError(`${ref} names ${matches.length} instances; ${hint}:\n${listCandidates(matches)}`);
  }
  return store.resolve(matches[0]!.dir);
}
