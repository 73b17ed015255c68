/**
 * Runs one stage instance from its plan record: the unit of work that pool workers, `defrost
 * exec` (and so exported Makefiles and Slurm jobs) all share, so an instance computed anywhere is
 * computed the same way.
 *
 *   1. already published with this key?  -> cached
 *   2. take the key's lock; if a live process holds it, wait, and report `cached` if it published
 *   3. check again (it may have been published while we waited), check the inputs are published
 *   4. run the stage into a fresh staging dir, its output captured into `.logs/<stage>/<key>.log`
 *   5. publish: hash + fsync every file, copy the log in, write manifest.json (fsync) into the
 *      staging dir, fsync it, rename it into place; release the lock.
 *
 * A stage that throws, or a process that dies, publishes nothing; a directory left without a
 * valid manifest is never a result and the next run removes it. Publishing takes the fsyncs its
 * guarantee needs and no more (docs/engine.md, "What a crash can cost"): the rename that makes
 * the instance visible comes after every file and the manifest are on disk.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DefrostError, UsageError } from './errors.js';
import type { ExecResult } from './executor.js';
import { fingerprintStage } from './fingerprint.js';
import { endSyncOnPublish, fsyncPath, syncFd, syncOnPublish, uniqueSuffix, writeFileDurable } from './fsutil.js';
import { acquireOrWait, newOwner, type HeldLock } from './lock.js';
import { LogCapture } from './log-capture.js';
import { ATTEMPT_MARK, isDefrostAttempt, removeDefrostDir } from './attempt-mark.js';
import { checkInstanceFiles, describeDamage, quarantine } from './integrity.js';
import { LOG_FILE, MANIFEST_FILE, MANIFEST_FORMAT, publishedManifest, sealManifest, type Manifest, type ManifestFile } from './manifest.js';
import type { AnyProject, RuntimeInfo } from './project.js';
import { checkOutputs, checkSummary, outputDigest, outputPath } from './outputs.js';
import type { InputArtifact, ProgressUpdate, StageContext } from './stage.js';
import type { Store } from './store.js';
import { workerMemo, type WorkerMemo } from './worker-memo.js';

export interface ExecOptions {
  readonly project: AnyProject;
  readonly store: Store;
  readonly stage: string;
  readonly key: string;
  readonly threads: number;
  readonly runtime: RuntimeInfo;
  /** Id of the run or command, recorded in the lock. */
  readonly runId: string;
  /** Recompute even if published (`--force STAGE`); the old instance is moved aside. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (update: ProgressUpdate) => void;
  /** Called once if another process holds the lock and this one waits for it. */
  readonly onWait?: () => void;
  /** Also show the stage's output on stderr. */
  readonly echo?: boolean;
  /** Values made from inputs, kept across this process's instances (default: the process's own, worker-memo.ts). */
  readonly memo?: WorkerMemo;
}

/** Locks held by this process, released if it exits (or is told to stop) mid-instance. */
const heldLocks = new Set<HeldLock>();
/** Staging directories of this process, removed on the same occasions. */
const stagingDirs = new Set<string>();

/** Releases every lock and removes every staging dir of this process; synchronous for exit handlers. */
export function abandonAll(): void {
  for (const lock of heldLocks) lock.release();
  heldLocks.clear();
  for (const dir of stagingDirs) removeDefrostDir(dir);
  stagingDirs.clear();
}

export async function execInstance(options: ExecOptions): Promise<ExecResult> {
  const { project, store, stage, key, force = false, memo = workerMemo() } = options;
  const record = store.readPlanRecord(stage, key);
  const definition = project.stages[stage];
  if (!definition) throw new UsageError(`unknown stage ${stage} (known: ${Object.keys(project.stages).join(', ')})`);
  const code = fingerprintStage(project.codeRoot, definition);
  if (code.fingerprint !== record.code_fingerprint)
    throw new UsageError(`code of stage ${stage} changed since it was planned; re-run \`defrost make\`/\`run\``);

  const checked = definition.params.safeParse(record.params);
  if (!checked.success)
    throw new UsageError(
      `the params of ${record.id} do not match the schema of stage ${stage}: ${checked.error.issues
        .map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`)
        .join('; ')}; re-plan with \`defrost run\`/\`make\``,
    );
  const params = checked.data;

  const dir = store.instanceDir(stage, key);
  const isPublished = (): boolean => publishedManifest(dir, key) !== null;
  if (!force && isPublished()) return { status: 'cached', seconds: 0 };

  const started = performance.now();
  const lock = await acquireOrWait(store.lockPath(key), newOwner(options.runId), () => !force && isPublished(), {
    signal: options.signal,
    onWait: options.onWait,
  });
  if (lock === null) return { status: 'cached', seconds: (performance.now() - started) / 1000 };
  heldLocks.add(lock);
  const logPath = store.logPath(stage, key);
  let staging: string | null = null;
  let capture: LogCapture | null = null;
  try {
    if (!force && isPublished()) return { status: 'cached', seconds: (performance.now() - started) / 1000 };

    const inputs: Record<string, InputArtifact | InputArtifact[]> = {};
    for (const [name, decl] of Object.entries(definition.inputs)) if (decl.many) inputs[name] = [];
    for (const [flatName, ref] of Object.entries(record.inputs)) {
      const inputDir = store.instanceDir(ref.stage, ref.key);
      const manifest = publishedManifest(inputDir, ref.key);
      if (!manifest) return { status: 'failed', reason: `input ${flatName} (${ref.stage} ${ref.key}) is not published` };
      // Never compute from damaged inputs: the result would be cached under a key that promises
      // the undamaged ones. (`run` re-executes damaged inputs before dispatching; this catches
      // damage that happened since, and `defrost exec` run by hand or by make.)
      // In full, except files this process hashed already and that are unchanged since (integrity.ts).
      const damage = checkInstanceFiles(inputDir, manifest, { remember: true });
      if (damage.length > 0)
        return {
          status: 'failed',
          reason: `input ${flatName} (${ref.stage} ${ref.key}) is damaged: ${describeDamage(damage)}; run \`defrost run\` to recompute it`,
        };
      const slash = flatName.indexOf('/');
      const name = slash >= 0 ? flatName.slice(0, slash) : flatName;
      const decl = definition.inputs[name];
      if (!decl || !decl.stages.includes(ref.stage))
        throw new UsageError(
          `the plan record of ${record.id} gives input ${flatName} (${ref.stage}), which stage ${stage} does not declare`,
        );
      const producer = project.stages[ref.stage];
      const artifact: InputArtifact = {
        name,
        id: manifest.id,
        stage: ref.stage,
        key: ref.key,
        dir: inputDir,
        coords: manifest.coords,
        params: manifest.params,
        summary: manifest.summary,
        durationSeconds: manifest.duration_s,
        path: (output) => outputPath(inputDir, producer, output),
        digest: (output) => outputDigest(manifest.files, producer, output),
      };
      const slot = inputs[name];
      if (Array.isArray(slot)) slot.push(artifact);
      else inputs[name] = artifact;
    }
    for (const [name, decl] of Object.entries(definition.inputs))
      if (!decl.many && !(name in inputs)) throw new UsageError(`the plan record of ${record.id} lacks input ${name} of stage ${stage}`);

    mkdirSync(dirname(logPath), { recursive: true });
    staging = store.stagingDir(stage, key);
    stagingDirs.add(staging);
    syncOnPublish(staging);
    capture = new LogCapture(logPath, options.echo ?? false);
    const log = capture;
    log.line(`# ${record.id} (${stage} ${key}), ${options.threads} thread(s), backend ${options.runtime.backend}`);
    const controller = new AbortController();
    options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const outDir = staging;
    const ctx: StageContext = {
      stage,
      key,
      params,
      coords: record.coords,
      inputs,
      outDir,
      output: (name) => outputPath(outDir, definition, name),
      threads: options.threads,
      log: (line) => log.line(line),
      progress: (update) => options.onProgress?.(update),
      signal: controller.signal,
      memo,
    };
    const runStart = performance.now();
    let summary;
    try {
      const outcome = await definition.run(ctx);
      summary = checkSummary(definition, outcome.summary ?? {});
      if (controller.signal.aborted) throw new Error('interrupted');
      await checkOutputs(staging, definition);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOSPC'
          ? `no space left on device (ENOSPC) while the stage wrote its outputs; nothing was published`
          : error instanceof Error
            ? error.message
            : String(error);
      log.line(`error: ${message}`);
      if (!(error instanceof DefrostError) && error instanceof Error && error.stack) log.line(error.stack);
      return { status: 'failed', reason: message.split('\n')[0], logPath };
    }
    const duration = (performance.now() - runStart) / 1000;
    log.close();

    let files: ManifestFile[];
    try {
      files = await describeOutputs(staging);
      // Not fsynced: a power loss may cut an instance's log short, never its results.
      copyFileSync(logPath, join(staging, LOG_FILE));
    } catch (error) {
      return { status: 'failed', reason: publishFailure(error), logPath };
    }

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      key,
      stage,
      id: record.id,
      coords: record.coords,
      params: record.params,
      inputs: Object.fromEntries(Object.entries(record.inputs).map(([n, r]) => [n, { stage: r.stage, key: r.key }])),
      code: { fingerprint: code.fingerprint, files: [...code.files] },
      files,
      summary,
      created: new Date().toISOString(),
      duration_s: Math.round(duration * 1000) / 1000,
      backend: options.runtime.backend,
      threads: options.threads,
      versions: { node: process.versions.node, [project.name]: project.version, ...options.runtime.versions },
      log: LOG_FILE,
    };
    try {
      publish(store, dir, staging, sealManifest(manifest));
    } catch (error) {
      return { status: 'failed', reason: publishFailure(error), logPath };
    }
    stagingDirs.delete(staging);
    endSyncOnPublish(staging);
    staging = null;
    return { status: 'executed', seconds: (performance.now() - started) / 1000 };
  } finally {
    // Between instances only: what this one got from the memo stayed valid while it ran.
    memo.trim();
    capture?.close();
    if (staging) {
      removeDefrostDir(staging);
      stagingDirs.delete(staging);
      endSyncOnPublish(staging);
    }
    lock.release();
    heldLocks.delete(lock);
  }
}

/** Stage names reserved in an instance directory. */
const RESERVED = new Set([MANIFEST_FILE, LOG_FILE]);

/** Bytes, sha256 and (for Arrow tables) row counts of every output file; fsyncs each. */
async function describeOutputs(staging: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  // Loaded here, not with the module: every command imports this module, only publishing walks.
  // The attempt mark is the engine's, not an output (attempt-mark.ts).
  const { listOutputFiles } = await import('./output-files.js');
  for (const path of listOutputFiles(staging).filter((p) => p !== ATTEMPT_MARK)) {
    if (RESERVED.has(path)) throw new Error(`the stage wrote ${path}, a name the engine reserves`);
    const full = join(staging, path);
    const bytes = readFileSync(full);
    const entry: ManifestFile = { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    if (path.endsWith('.arrow')) {
      const { countArrowRows } = await import('./arrow.js');
      out.push({ ...entry, rows: await countArrowRows(full) });
    } else out.push(entry);
    const fd = openSync(full, 'r');
    try {
      syncFd(fd);
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/**
 * Writes the manifest into the staging dir and moves the dir into place: the rename is what makes
 * the instance visible, so it comes after every file and the manifest are durable (their fsyncs,
 * then the staging dir's for their names). The stage directory is not fsynced after the rename:
 * a power loss right after it may lose the instance, which the next run then recomputes (same
 * key, same bytes), but can never show a manifest without its files (docs/engine.md). Whatever
 * is at the target is moved aside first: a manifest-less leftover of a dead attempt, or (with
 * --force) the old instance, is deleted; anything not provably defrost's is quarantined
 * (attempt-mark.ts). Called with the key's lock held.
 */
function publish(store: Store, dir: string, staging: string, manifest: Manifest): void {
  writeFileDurable(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncPath(staging);
  mkdirSync(dirname(dir), { recursive: true });
  if (existsSync(dir)) {
    if (isDefrostAttempt(dir, manifest.stage, manifest.key)) {
      const aside = join(store.tmpRoot, `replaced-${manifest.stage}-${manifest.key}-${uniqueSuffix()}`);
      renameSync(dir, aside);
      removeDefrostDir(aside);
    } else quarantine(store, manifest.stage, manifest.key, dir, "found where the instance is published; not provably defrost's");
  }
  renameSync(staging, dir);
}

/** One line for the run summary when publishing failed (e.g. the disk is full). */
function publishFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC') return `could not publish: no space left on device (ENOSPC); nothing was published`;
  if (e.code === 'EDQUOT') return `could not publish: disk quota exceeded (EDQUOT); nothing was published`;
  return `could not publish: ${(e.message ?? String(error)).split('\n')[0]}; nothing was published`;
}
