/**
 * Plan -> DAG: sorts a project's InstanceSpecs topologically and keys each one from its stage,
 * params, input keys and code fingerprint. A missing input or a cycle is a bug in the project's
 * planner (not in the user's config), so it throws a plain Error that the CLI reports as internal.
 */
import { fingerprintStage, type CodeFingerprint } from './fingerprint.js';
import { instanceKey } from './hash.js';
import type { AnyProject } from './project.js';
import type { Coords, InstanceSpec, JsonObject } from './stage.js';

export interface InputRef {
  readonly id: string;
  readonly stage: string;
  readonly key: string;
}

/** A planned instance with its cache key, ready to schedule. */
export interface PlannedInstance {
  readonly id: string;
  readonly stage: string;
  readonly key: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  /** Input name -> the input instance. */
  readonly inputs: Readonly<Record<string, InputRef>>;
  readonly code: CodeFingerprint;
}

export class PlanError extends Error {}

/** Keys every spec; returns them in a topological order (inputs before their consumers). */
export function buildDag(project: AnyProject, specs: readonly InstanceSpec[]): PlannedInstance[] {
  const byId = new Map<string, InstanceSpec>();
  for (const spec of specs) {
    if (byId.has(spec.id)) throw new PlanError(`planner produced two instances with id ${spec.id}`);
    if (!project.stages[spec.stage]) throw new PlanError(`instance ${spec.id} names unknown stage ${spec.stage}`);
    byId.set(spec.id, spec);
  }
  const planned = new Map<string, PlannedInstance>();
  const order: PlannedInstance[] = [];
  const visiting = new Set<string>();

  // Iterative depth-first post-order: deep DAGs must not blow the stack.
  for (const root of specs) {
    if (planned.has(root.id)) continue;
    const stack: { spec: InstanceSpec; expanded: boolean }[] = [{ spec: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (planned.has(top.spec.id)) {
        stack.pop();
        continue;
      }
      if (!top.expanded) {
        top.expanded = true;
        visiting.add(top.spec.id);
        for (const [name, inputId] of Object.entries(top.spec.inputs)) {
          const input = byId.get(inputId);
          if (!input) throw new PlanError(`instance ${top.spec.id}: input ${name} refers to unknown instance ${inputId}`);
          if (visiting.has(inputId)) throw new PlanError(`dependency cycle through ${top.spec.id} and ${inputId}`);
          if (!planned.has(inputId)) stack.push({ spec: input, expanded: false });
        }
        continue;
      }
      stack.pop();
      visiting.delete(top.spec.id);
      const spec = top.spec;
      const code = fingerprintStage(project.codeRoot, project.stages[spec.stage]);
      const inputs: Record<string, InputRef> = {};
      const inputKeys: Record<string, string> = {};
      for (const [name, inputId] of Object.entries(spec.inputs)) {
        const input = planned.get(inputId) as PlannedInstance;
        inputs[name] = { id: input.id, stage: input.stage, key: input.key };
        inputKeys[name] = input.key;
      }
      const key = instanceKey({ stage: spec.stage, params: spec.params, inputs: inputKeys, code: code.fingerprint });
      const instance: PlannedInstance = { id: spec.id, stage: spec.stage, key, coords: spec.coords, params: spec.params, inputs, code };
      planned.set(spec.id, instance);
      order.push(instance);
    }
  }
  return order;
}

/** Every instance that depends (directly or not) on `id`. */
export function descendantsOf(instances: readonly PlannedInstance[], id: string): Set<string> {
  const consumers = new Map<string, string[]>();
  for (const inst of instances)
    for (const input of Object.values(inst.inputs)) {
      const list = consumers.get(input.id) ?? [];
      list.push(inst.id);
      consumers.set(input.id, list);
    }
  const out = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    for (const c of consumers.get(queue.pop() as string) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        queue.push(c);
      }
    }
  }
  return out;
}
