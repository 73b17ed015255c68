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
import { StoreLayoutError } from './errors.js';
import type { ExecResult, Executor, WorkerInfo } from './executor.js';
import { checkInstanceFiles, describeDamage, quarantine } from './integrity.js';
import { newOwner, tryAcquire } from './lock.js';
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
  /** A one-line notice: a damaged input quarantined, a failed instance retried. */
  notice?(text: string): void;
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
  /** Times a failed instance is dispatched again before it counts as failed (`--retries N`). */
  readonly retries?: number;
  /** Ids found published by `findCached` just before (saves reading every manifest twice). */
  readonly published?: ReadonlySet<string>;
}

export interface ScheduleResult {
  readonly outcomes: ReadonlyMap<string, InstanceOutcome>;
  readonly interrupted: boolean;
}

/** Instances whose published manifest carries their key. */
export function findCached(store: Store, instances: readonly PlannedInstance[]): Set<string> {
  const cached = new Set<string>();
  for (const inst of instances) {
    let dir: string;
    try {
      dir = store.instanceDir(inst.stage, inst.key);
    } catch (error) {
      // A symlink planted under the key: not a result (the run's cleanup moves it aside).
      if (error instanceof StoreLayoutError) continue;
      throw error;
    }
    if (publishedManifest(dir, inst.key)) cached.add(inst.id);
  }
  return cached;
}

/**
 * Checks, byte for byte, every published instance that an instance about to execute will read.
 * A damaged one (truncated, bit-flipped or missing file, edited manifest) is moved to
 * `<store>/.quarantine/` and dropped from `published`, so it is recomputed (same key, same bytes)
 * before its consumers run instead of being fed to them. Returns one notice per quarantined instance.
 */
export function quarantineDamagedInputs(
  store: Store,
  instances: readonly PlannedInstance[],
  published: Set<string>,
  force: ReadonlySet<string>,
): string[] {
  const byId = new Map(instances.map((i) => [i.id, i]));
  const willRun = (i: PlannedInstance): boolean => !published.has(i.id) || force.has(i.stage);
  const toCheck = new Set<string>();
  for (const inst of instances)
    if (willRun(inst)) for (const input of Object.values(inst.inputs)) if (published.has(input.id)) toCheck.add(input.id);
  const notices: string[] = [];
  for (const id of toCheck) {
    const inst = byId.get(id) as PlannedInstance;
    const dir = store.instanceDir(inst.stage, inst.key);
    const manifest = publishedManifest(dir, inst.key);
    if (!manifest) {
      published.delete(id);
      continue;
    }
    const damage = checkInstanceFiles(dir, manifest);
    if (damage.length === 0) continue;
    published.delete(id);
    // Move it aside under its lock; if a live process holds the lock it is recomputing the key
    // (--force) and will replace the directory itself.
    const attempt = tryAcquire(store.lockPath(inst.key), newOwner(`quarantine-${process.pid}`));
    if (!attempt.acquired) continue;
    try {
      const where = quarantine(store, inst.stage, inst.key, dir, describeDamage(damage));
      notices.push(`damaged: ${inst.id} (${inst.stage} ${inst.key}): ${describeDamage(damage)}; moved to ${where}, recomputing`);
    } finally {
      attempt.lock.release();
    }
  }
  return notices;
}

export async function schedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const { instances, store, executor, events = {}, force = new Set<string>() } = options;
  const outcomes = new Map<string, InstanceOutcome>();
  const byId = new Map(instances.map((i) => [i.id, i]));
  const published = options.published ? new Set(options.published) : findCached(store, instances);
  // Damage found now is recomputed; damage between here and a consumer's start fails that
  // consumer (exec checks its inputs again) instead of being read.
  // Repeat until stable: an input that must now be recomputed may itself read cached inputs.
  for (let before = -1; before !== published.size;) {
    before = published.size;
    for (const n of quarantineDamagedInputs(store, instances, published, force)) events.notice?.(n);
  }
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
  const retries = Math.max(0, options.retries ?? 0);
  const attempts = new Map<string, number>();

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
      if (result.status === 'failed' && !interrupted) {
        const attempt = (attempts.get(inst.id) ?? 0) + 1;
        attempts.set(inst.id, attempt);
        if (attempt <= retries) {
          events.notice?.(`retrying ${inst.id} (attempt ${attempt + 1} of ${retries + 1}) after: ${result.reason}`);
          ready.unshift(inst);
          pump();
          return;
        }
      }
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
