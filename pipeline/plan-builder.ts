/**
 * The typed planner call: a project's `plan` adds instances with
 * `plan.add(stage, coords, params, inputs)`. The compiler checks that `params` has the stage's
 * params type (the output type of its zod schema) and that every declared input gets a reference
 * to an instance of a stage it accepts (one, or an array for a many-input); at run time the
 * params are validated against the schema. Adding the same id twice returns the first instance
 * (the reference network of `similarity` is also a sweep instance, trained once).
 */
import type { z } from 'zod';
import type { Coords, InputDecl, InputDecls, InstanceSpec, OutputDecls, ParamsSchema, Stage } from './stage.js';

/** A planned instance of stage `N`, as the planner passes it to consumers. */
export interface InstanceRef<N extends string = string> {
  readonly id: string;
  readonly stage: N;
}

/** What `add` takes for each declared input. */
export type InputRefs<I extends InputDecls> = {
  readonly [K in keyof I]: I[K] extends InputDecl<infer N, OutputDecls, infer M>
    ? M extends true
      ? readonly InstanceRef<N>[]
      : InstanceRef<N>
    : never;
};

/** A planner's mistake (a bug in the project, not in the user's config). */
export class PlanError extends Error {}

/** Readable instance id: `stage[k=v,...]` in the coordinates' order. */
export function instanceId(stage: string, coords: Coords): string {
  const parts = Object.entries(coords).map(([k, v]) => `${k}=${v === null ? 'none' : v}`);
  return parts.length === 0 ? stage : `${stage}[${parts.join(',')}]`;
}

/** The flat engine name of a many-input member: `runs/<id>`. */
export function manyInputName(input: string, id: string): string {
  return `${input}/${id}`;
}

export class PlanBuilder {
  private readonly byId = new Map<string, InstanceSpec>();

  add<N extends string, S extends ParamsSchema, I extends InputDecls, O extends OutputDecls>(
    stage: Stage<N, S, I, O>,
    coords: Coords,
    params: z.output<S>,
    inputs: InputRefs<I>,
  ): InstanceRef<N> {
    const id = instanceId(stage.name, coords);
    const known = this.byId.get(id);
    if (known) {
      if (known.stage !== stage.name) throw new PlanError(`instance id ${id} planned for stages ${known.stage} and ${stage.name}`);
      return { id, stage: stage.name };
    }
    const parsed = stage.params.safeParse(params);
    if (!parsed.success) throw new PlanError(`planned params of ${id} do not match the ${stage.name} schema: ${parsed.error.message}`);
    const flat: Record<string, string> = {};
    for (const [name, decl] of Object.entries(stage.inputs)) {
      const given: unknown = (inputs as Record<string, unknown>)[name];
      const refs = (decl.many ? given : [given]) as readonly InstanceRef[] | undefined;
      if (!Array.isArray(refs)) throw new PlanError(`${id}: input ${name} must be ${decl.many ? 'a list of instances' : 'one instance'}`);
      for (const ref of refs) {
        if (!ref || !decl.stages.includes(ref.stage))
          throw new PlanError(`${id}: input ${name} takes ${decl.stages.join(' or ')}, got ${ref?.stage ?? 'nothing'}`);
        flat[decl.many ? manyInputName(name, ref.id) : name] = ref.id;
      }
    }
    this.byId.set(id, { id, stage: stage.name, coords, params: parsed.data, inputs: flat });
    return { id, stage: stage.name };
  }

  /** Every instance added, in insertion order. */
  specs(): InstanceSpec[] {
    return [...this.byId.values()];
  }
}
