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

/**
 * Several published instances may share the coordinates (one per past value of a param). The
 * one explaining best is the closest: fewest changed params, then same code, then fewest changed
 * inputs; among equals, the newest. (Always taking the newest would explain "k 7 -> 5" after a
 * k=7 experiment, when the k=5 instance differs only by an edit to the stage's code.)
 */
export function explain(inst: PlannedInstance, byStage: ReadonlyMap<string, PublishedInstance[]>): NotCachedReason {
  const candidates = (byStage.get(inst.stage) ?? []).filter((p) => sameCoords(p.manifest.coords, inst.coords));
  if (candidates.length === 0) return { kind: 'new' };
  const compared = candidates.map((p) => {
    const changes = diffJson(p.manifest.params, inst.params);
    const codeChanged = p.manifest.code.fingerprint !== inst.code.fingerprint;
    const inputs = Object.entries(inst.inputs)
      .filter(([name, ref]) => p.manifest.inputs[name]?.key !== ref.key)
      .map(([name]) => name);
    const removed = Object.keys(p.manifest.inputs).filter((n) => !(n in inst.inputs));
    return { p, changes, codeChanged, inputs: [...inputs, ...removed] };
  });
  compared.sort(
    (a, b) =>
      a.changes.length - b.changes.length ||
      Number(a.codeChanged) - Number(b.codeChanged) ||
      a.inputs.length - b.inputs.length ||
      (a.p.manifest.created < b.p.manifest.created ? 1 : -1),
  );
  const best = compared[0];
  if (best.changes.length > 0) return { kind: 'params changed', changes: best.changes };
  if (best.codeChanged) return { kind: 'code changed' };
  if (best.inputs.length > 0) return { kind: 'input changed', inputs: best.inputs };
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
