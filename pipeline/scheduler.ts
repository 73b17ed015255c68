/**
 * Decides what runs when: finds published instances (cached), then hands the rest to an
 * Executor in dependency order, at most `executor.slots` at a time. It is executor-agnostic —
 * the local pool and Slurm run the same `exec STAGE KEY` units — and never runs a stage itself.
 *
 * A failed instance fails only its descendants (reported as skipped, naming the upstream
 * failure); independent branches finish. An abort (SIGINT/SIGTERM) stops dispatching,
 * interrupts the executor and reports what finished.
 */
import type { PlannedInstance } from './dag.js';
import { descendantsOf } from './dag.js';
import type { ExecResult, Executor, WorkerInfo } from './executor.js';
import { publishedManifest } from './manifest.js';
import type { ProgressUpdate } from './stage.js';
import type { Store } from './store.js';

export type InstanceOutcome =
  | { readonly status: 'cached'; readonly seconds: number; readonly waited: boolean }
  | { readonly status: 'executed'; readonly seconds: number }
  | { readonly status: 'failed'; readonly reason: string; readonly logPath?: string }
  | { readonly status: 'skipped'; readonly upstream: string }
  | { readonly status: 'interrupted' };

export interface SchedulerEvents {
  /** Called once, before anything starts, with the instances found published. */
  planned?(total: number, cached: readonly PlannedInstance[]): void;
  start?(inst: PlannedInstance): void;
  waiting?(inst: PlannedInstance): void;
  progress?(inst: PlannedInstance, update: ProgressUpdate): void;
  finish?(inst: PlannedInstance, outcome: InstanceOutcome): void;
  runtime?(info: WorkerInfo): void;
}

export interface ScheduleOptions {
  readonly instances: readonly PlannedInstance[];
  readonly store: Store;
  readonly executor: Executor;
  readonly threads: number;
  /** Stages whose instances are recomputed even if published. */
  readonly force?: ReadonlySet<string>;
  readonly events?: SchedulerEvents;
  readonly signal?: AbortSignal;
}

export interface ScheduleResult {
  readonly outcomes: ReadonlyMap<string, InstanceOutcome>;
  readonly interrupted: boolean;
}

/** Instances whose published manifest carries their key. */
export function findCached(store: Store, instances: readonly PlannedInstance[]): Set<string> {
  const cached = new Set<string>();
  for (const inst of instances) if (publishedManifest(store.instanceDir(inst.stage, inst.key), inst.key)) cached.add(inst.id);
  return cached;
}

export async function schedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const { instances, store, executor, events = {}, force = new Set<string>() } = options;
  const outcomes = new Map<string, InstanceOutcome>();
  const byId = new Map(instances.map((i) => [i.id, i]));
  const published = findCached(store, instances);
  const cachedList: PlannedInstance[] = [];
  for (const inst of instances) {
    if (published.has(inst.id) && !force.has(inst.stage)) {
      outcomes.set(inst.id, { status: 'cached', seconds: 0, waited: false });
      cachedList.push(inst);
    }
  }
  events.planned?.(instances.length, cachedList);

  const consumers = new Map<string, string[]>();
  const waitingOn = new Map<string, number>();
  for (const inst of instances) {
    if (outcomes.has(inst.id)) continue;
    let n = 0;
    for (const input of Object.values(inst.inputs)) {
      if (outcomes.get(input.id)?.status === 'cached') continue;
      n++;
      const list = consumers.get(input.id) ?? [];
      list.push(inst.id);
      consumers.set(input.id, list);
    }
    waitingOn.set(inst.id, n);
  }
  // Ready queue in topological (plan) order, so upstream stages start first.
  const ready: PlannedInstance[] = instances.filter((i) => waitingOn.get(i.id) === 0);
  let running = 0;
  let interrupted = false;

  return new Promise<ScheduleResult>((resolveAll) => {
    const finishIfDone = (): void => {
      if (running === 0 && (ready.length === 0 || interrupted)) {
        for (const inst of instances) if (!outcomes.has(inst.id)) outcomes.set(inst.id, { status: 'interrupted' });
        options.signal?.removeEventListener('abort', onAbort);
        resolveAll({ outcomes, interrupted });
      }
    };
    const onAbort = (): void => {
      if (interrupted) return;
      interrupted = true;
      void executor.shutdown('interrupt').then(finishIfDone);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const complete = (inst: PlannedInstance, result: ExecResult): void => {
      running--;
      let outcome: InstanceOutcome;
      if (interrupted && result.status === 'failed') outcome = { status: 'interrupted' };
      else if (result.status === 'failed') outcome = { status: 'failed', reason: result.reason, logPath: result.logPath };
      else if (result.status === 'cached') outcome = { status: 'cached', seconds: result.seconds, waited: true };
      else outcome = { status: 'executed', seconds: result.seconds };
      outcomes.set(inst.id, outcome);
      events.finish?.(inst, outcome);
      if (outcome.status === 'failed') {
        for (const d of descendantsOf(instances, inst.id)) {
          if (outcomes.has(d)) continue;
          const skipped: InstanceOutcome = { status: 'skipped', upstream: inst.id };
          outcomes.set(d, skipped);
          events.finish?.(byId.get(d) as PlannedInstance, skipped);
        }
      } else if (outcome.status !== 'interrupted') {
        for (const c of consumers.get(inst.id) ?? []) {
          const left = (waitingOn.get(c) as number) - 1;
          waitingOn.set(c, left);
          if (left === 0 && !outcomes.has(c)) ready.push(byId.get(c) as PlannedInstance);
        }
      }
      pump();
    };

    const pump = (): void => {
      while (!interrupted && running < executor.slots && ready.length > 0) {
        const inst = ready.shift() as PlannedInstance;
        if (outcomes.has(inst.id)) continue;
        running++;
        events.start?.(inst);
        const req = { stage: inst.stage, key: inst.key, store: store.root, threads: options.threads, force: force.has(inst.stage) };
        executor
          .run(req, {
            progress: (_req, update) => events.progress?.(inst, update),
            waiting: () => events.waiting?.(inst),
            runtime: (info) => events.runtime?.(info),
          })
          .then(
            (result) => complete(inst, result),
            (error: unknown) => complete(inst, { status: 'failed', reason: (error as Error).message }),
          );
      }
      finishIfDone();
    };
    if (options.signal?.aborted) onAbort();
    pump();
  });
}
