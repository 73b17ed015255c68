/**
 * Why an instance is not cached. Keys are hashes, so the explanation comes from comparing the
 * planned instance with the newest published instance of the same stage at the same coordinates
 * (the "previous" one): changed params (named, old -> new), a changed code fingerprint, or
 * changed inputs (named). No previous instance: `new`.
 */
import type { PlannedInstance } from './dag.js';
import type { Manifest } from './manifest.js';
import type { PublishedInstance } from './store.js';
import { canonicalHash } from './hash.js';
import type { JsonValue } from './stage.js';

export interface ParamChange {
  readonly path: string;
  readonly old: unknown;
  readonly new: unknown;
}

export type NotCachedReason =
  | { readonly kind: 'new' }
  | { readonly kind: 'params changed'; readonly changes: readonly ParamChange[] }
  | { readonly kind: 'code changed' }
  | { readonly kind: 'input changed'; readonly inputs: readonly string[] }
  | { readonly kind: 'unknown' };

/** Leaf-level differences between two JSON values, as dotted paths. */
export function diffJson(oldValue: unknown, newValue: unknown, path = ''): ParamChange[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(oldValue) && isObj(newValue)) {
    const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort();
    return keys.flatMap((k) => diffJson(oldValue[k], newValue[k], path ? `${path}.${k}` : k));
  }
  const same =
    oldValue === newValue ||
    (oldValue !== undefined && newValue !== undefined && canonicalHash(oldValue as JsonValue) === canonicalHash(newValue as JsonValue));
  return same ? [] : [{ path: path || '(params)', old: oldValue, new: newValue }];
}

function sameCoords(a: Manifest['coords'], b: PlannedInstance['coords']): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** Index of published instances by stage, for `explain`. */
export function indexByStage(published: readonly PublishedInstance[]): Map<string, PublishedInstance[]> {
  const index = new Map<string, PublishedInstance[]>();
  for (const p of published) {
    const list = index.get(p.stage) ?? [];
    list.push(p);
    index.set(p.stage, list);
  }
  return index;
}

export function explain(inst: PlannedInstance, byStage: ReadonlyMap<string, PublishedInstance[]>): NotCachedReason {
  const previous = (byStage.get(inst.stage) ?? [])
    .filter((p) => sameCoords(p.manifest.coords, inst.coords))
    .sort((a, b) => (a.manifest.created < b.manifest.created ? 1 : -1))[0];
  if (!previous) return { kind: 'new' };
  const changes = diffJson(previous.manifest.params, inst.params);
  if (changes.length > 0) return { kind: 'params changed', changes };
  if (previous.manifest.code.fingerprint !== inst.code.fingerprint) return { kind: 'code changed' };
  const inputs = Object.entries(inst.inputs)
    .filter(([name, ref]) => previous.manifest.inputs[name]?.key !== ref.key)
    .map(([name]) => name);
  const removed = Object.keys(previous.manifest.inputs).filter((n) => !(n in inst.inputs));
  if (inputs.length + removed.length > 0) return { kind: 'input changed', inputs: [...inputs, ...removed] };
  return { kind: 'unknown' };
}

export function describeReason(reason: NotCachedReason): string {
  switch (reason.kind) {
    case 'params changed':
      return `params changed: ${reason.changes.map((c) => `${c.path} ${JSON.stringify(c.old) ?? '(unset)'} -> ${JSON.stringify(c.new) ?? '(unset)'}`).join(', ')}`;
    case 'input changed':
      return `input changed: ${reason.inputs.length > 4 ? `${reason.inputs.slice(0, 4).join(', ')} and ${reason.inputs.length - 4} more` : reason.inputs.join(', ')}`;
    default:
      return reason.kind;
  }
}
