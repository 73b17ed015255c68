/**
 * The artifact store: where published instances, plan records, locks, logs and staging
 * directories live (layout in docs/engine.md and below). Every path built from
 * user input (a key prefix, a directory, a stage name) is validated so that it can never
 * resolve outside the store.
 *
 *   <store>/<stage>/<key>/                   published instance (manifest.json written last)
 *   <store>/.plans/<stage>/<key>.json        plan record: what `exec STAGE KEY` needs
 *   <store>/.locks/<key>.lock                one per key while an instance is being computed
 *   <store>/.logs/<stage>/<key>.log          log of the latest attempt
 *   <store>/.tmp/<stage>-<key>-<host>-<pid>-<rand>/   staging, renamed into place on publish
 *   <store>/.defrost-store                    the store mark (see store-mark.ts)
 *
 * Nothing outside the store is ever written, moved or deleted (docs/reliability.md): every
 * internal path is built from validated components (stage names, 16-hex keys), no component
 * below the root may be a symbolic link, and nothing is written or deleted in a directory that
 * does not carry the store mark.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { StoreError, UsageError } from './errors.js';
import { checkInstanceFiles, describeDamage, quarantine } from './integrity.js';
import { NotRegularFileError, readRegularText, writeFileAtomic, uniqueSuffix } from './fsutil.js';
import { instanceKey } from './hash.js';
import { ATTEMPT_MARK, isDefrostAttempt, removeDefrostDir, writeAttemptMark } from './attempt-mark.js';
import { ensureMarked, markState } from './store-mark.js';
import { MARK_FILE, checkDotEntries, internalPath, isWithin, storePath, type InternalDir } from './store-dirs.js';
import { readManifest, type Manifest } from './manifest.js';
import { STORE_DIR_NAME, findProjectRoot, projectRootOrCwd } from './project-root.js';
import type { Coords, JsonObject } from './stage.js';
import type { PlannedInstance } from './dag.js';

const STAGE_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const KEY = /^[0-9a-f]{16}$/;
const KEY_PREFIX = /^[0-9a-f]{1,16}$/;

/** What `exec STAGE KEY` reads: enough to run the instance with nothing but the store. */
export interface PlanRecord {
  readonly stage: string;
  readonly key: string;
  readonly id: string;
  readonly coords: Coords;
  readonly params: JsonObject;
  readonly inputs: Readonly<Record<string, { stage: string; key: string }>>;
  readonly code_fingerprint: string;
}

const planRecordSchema = z.object({
  stage: z.string().regex(STAGE_NAME),
  key: z.string().regex(KEY),
  id: z.string(),
  coords: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), z.object({ stage: z.string().regex(STAGE_NAME), key: z.string().regex(KEY) })),
  code_fingerprint: z.string(),
});

export interface PublishedInstance {
  readonly stage: string;
  readonly key: string;
  readonly dir: string;
  readonly manifest: Manifest;
}

/** A directory under a stage that is not a valid published instance. */
export interface Leftover {
  readonly stage: string;
  readonly name: string;
  readonly dir: string;
  readonly reason: string;
}

export function isStageName(name: string): boolean {
  return STAGE_NAME.test(name);
}
export function isKey(key: string): boolean {
  return KEY.test(key);
}

/**
 * `--store`, else `$DEFROST_STORE` (both relative to the current directory), else `artifacts/`
 * under the project root (project-root.ts): found from the current directory, else from the
 * files the command was given (`inputs`: a config, recommend's data and network), else the
 * current directory. So `run` and `recommend` started anywhere share the project's one store.
 */
export function resolveStoreRoot(option: string | undefined, inputs: readonly string[] = []): string {
  const given = option ?? process.env.DEFROST_STORE;
  if (given !== undefined && given !== '') return resolve(given);
  const fromInputs = inputs.map((file) => findProjectRoot(dirname(resolve(file)))).find((root) => root !== null);
  return join(findProjectRoot() ?? fromInputs ?? projectRootOrCwd(), STORE_DIR_NAME);
}

export class Store {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** A path in the store below the root (checked: see store-dirs.ts). */
  private inside(...parts: string[]): string {
    return storePath(this.root, ...parts);
  }
  /** A path in one of the store's dot-folders: the one checked accessor (store-dirs.ts). */
  internal(name: InternalDir, ...rest: string[]): string {
    return internalPath(this.root, name, ...rest);
  }

  private marked = false;
  /**
   * Before the first write in this store: creates and marks a new or empty directory, adopts a
   * store of an older defrost (its layout recognised), refuses anything else (see store-mark.ts).
   */
  ensureMarked(notice: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): void {
    if (this.marked) return;
    ensureMarked(this.root, notice);
    checkDotEntries(this.root);
    this.marked = true;
  }
  /** Every write, move or delete goes through this: never in a directory without the mark. */
  private assertMarked(): void {
    if (this.marked) return;
    const state = markState(this.root);
    if (state.kind !== 'marked')
      throw new StoreError(`${this.root} has no ${MARK_FILE} mark; refusing to write or delete there (see docs/reliability.md)`);
    checkDotEntries(this.root);
    this.marked = true;
  }

  private checkStageKey(stage: string, key: string): void {
    if (!STAGE_NAME.test(stage)) throw new UsageError(`"${stage}" is not a stage name`);
    if (!KEY.test(key)) throw new UsageError(`"${key}" is not an instance key (16 hex characters)`);
  }

  instanceDir(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    return this.inside(stage, key);
  }
  planPath(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    return this.internal('.plans', stage, `${key}.json`);
  }
  lockPath(key: string): string {
    if (!KEY.test(key)) throw new UsageError(`"${key}" is not an instance key`);
    return this.internal('.locks', `${key}.lock`);
  }
  logPath(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    return this.internal('.logs', stage, `${key}.log`);
  }
  get tmpRoot(): string {
    return this.internal('.tmp');
  }
  get locksDir(): string {
    return this.internal('.locks');
  }
  /** `<store>/.runs`: records of running `run`s, `exec`s and exported-Makefile builds. */
  get runsDir(): string {
    return this.internal('.runs');
  }
  /** `<store>/.results/<stage>/<key>.json`: how `defrost exec` last ended the instance (exec-record.ts). */
  execRecordPath(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    return this.internal('.results', stage, `${key}.json`);
  }
  /** `<store>/.logs/slurm-jobs.jsonl`: which Slurm job ran which instances. */
  get slurmJobsPath(): string {
    return this.internal('.logs', 'slurm-jobs.jsonl');
  }
  /** `<store>/.logs/workers.log`: what local worker processes said outside any instance. */
  get workersLogPath(): string {
    return this.internal('.logs', 'workers.log');
  }
  /** `<store>/.quarantine`: damaged instances moved aside (never deleted). */
  get quarantineDir(): string {
    return this.internal('.quarantine');
  }
  /** `<store>/.reports/partial-<key>`: a report built from an incomplete run. */
  partialReportDir(key: string): string {
    if (!KEY.test(key)) throw new UsageError(`"${key}" is not an instance key`);
    this.ensureMarked();
    return this.internal('.reports', `partial-${key}`);
  }
  /** A fresh staging directory for one attempt at an instance. */
  stagingDir(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    this.assertMarked();
    const dir = this.internal('.tmp', `${stage}-${key}-${uniqueSuffix()}`);
    mkdirSync(dir, { recursive: true });
    // What later proves the directory (and the instance it becomes) is defrost's to delete.
    writeAttemptMark(dir, stage, key);
    return dir;
  }

  /**
   * Writes the plan record of an instance unless a valid one (hashing to its key) exists: an
   * edited, truncated or foreign record is replaced from the plan (the config), never obeyed.
   * Returns true when a damaged record was replaced.
   */
  writePlanRecord(inst: PlannedInstance): boolean {
    this.assertMarked();
    const path = this.planPath(inst.stage, inst.key);
    let replaced = false;
    if (existsSync(path) || isSymlink(path)) {
      if (this.checkPlanRecord(inst.stage, inst.key).ok) return false;
      replaced = true;
      // A planted symlink or special file is moved out of the way by the rename below; a
      // symlink is removed first so the rename replaces the link, never its target.
      if (isSymlink(path)) rmSync(path, { force: true });
    }
    const inputs: Record<string, { stage: string; key: string }> = {};
    for (const [name, ref] of Object.entries(inst.inputs)) inputs[name] = { stage: ref.stage, key: ref.key };
    const record: PlanRecord = {
      stage: inst.stage,
      key: inst.key,
      id: inst.id,
      coords: inst.coords,
      params: inst.params,
      inputs,
      code_fingerprint: inst.code.fingerprint,
    };
    writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
    return replaced;
  }

  /**
   * Reads and checks a plan record: a regular file, valid JSON of the right shape, naming this
   * stage and key, and content-addressed: its stage, params, input keys and code fingerprint
   * hash to its key. A record that fails any of these is never obeyed.
   */
  checkPlanRecord(stage: string, key: string): { ok: true; record: PlanRecord } | { ok: false; missing: boolean; problem: string } {
    const path = this.planPath(stage, key);
    let json: unknown;
    try {
      json = JSON.parse(readRegularText(path, 64 * 1024 * 1024));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, missing: true, problem: 'missing' };
      if (error instanceof NotRegularFileError) return { ok: false, missing: false, problem: error.message };
      return { ok: false, missing: false, problem: `unreadable (${(error as Error).message})` };
    }
    const parsed = planRecordSchema.safeParse(json);
    if (!parsed.success) return { ok: false, missing: false, problem: 'not a valid plan record (truncated or edited)' };
    const record = parsed.data as PlanRecord;
    if (record.stage !== stage || record.key !== key) return { ok: false, missing: false, problem: `names ${record.stage} ${record.key}` };
    const inputKeys: Record<string, string> = {};
    for (const [name, ref] of Object.entries(record.inputs)) inputKeys[name] = ref.key;
    const hashed = instanceKey({ stage, params: record.params as JsonObject, inputs: inputKeys, code: record.code_fingerprint });
    if (hashed !== key) return { ok: false, missing: false, problem: `its content hashes to ${hashed}, not to its key (edited)` };
    return { ok: true, record };
  }

  readPlanRecord(stage: string, key: string): PlanRecord {
    const path = this.planPath(stage, key);
    const checked = this.checkPlanRecord(stage, key);
    if (checked.ok) return checked.record;
    if (checked.missing)
      throw new UsageError(`no plan for ${stage} ${key} in ${this.root} (run \`defrost make\` or \`defrost run\` first)`);
    throw new UsageError(
      `plan record ${path} is refused: ${checked.problem}; \`defrost run CONFIG\` (or \`defrost make CONFIG\`) rewrites it from the config`,
    );
  }

  /** Stage directories under `.plans` (plain directories only). */
  planStages(): { stage: string }[] {
    const plans = this.internal('.plans');
    if (!existsSync(plans)) return [];
    return readdirSync(plans, { withFileTypes: true })
      .filter((e) => e.isDirectory() && STAGE_NAME.test(e.name))
      .map((e) => ({ stage: e.name }))
      .sort((a, b) => a.stage.localeCompare(b.stage));
  }
  planStageDir(stage: string): string {
    if (!STAGE_NAME.test(stage)) throw new UsageError(`"${stage}" is not a stage name`);
    return this.internal('.plans', stage);
  }

  /** Every plan record file in the store, as stage and key (names that are not keys are skipped). */
  planRecords(): { stage: string; key: string }[] {
    const out: { stage: string; key: string }[] = [];
    const plans = this.internal('.plans');
    if (!existsSync(plans)) return out;
    for (const stage of readdirSync(plans).sort()) {
      if (!STAGE_NAME.test(stage)) continue;
      const dir = this.internal('.plans', stage);
      if (!lstatSync(dir).isDirectory()) continue;
      for (const name of readdirSync(dir).sort()) {
        const m = /^([0-9a-f]{16})\.json$/.exec(name);
        if (m) out.push({ stage, key: m[1] });
      }
    }
    return out;
  }

  /** Stage directories present in the store. */
  stageNames(): string[] {
    if (!existsSync(this.root)) return [];
    if (!statSync(this.root).isDirectory())
      throw new UsageError(`the store ${this.root} is not a directory (--store or DEFROST_STORE names a file)`);
    return readdirSync(this.root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && STAGE_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** Every valid published instance, optionally of one stage; and the leftovers found on the way. */
  scan(stage?: string): { published: PublishedInstance[]; leftovers: Leftover[] } {
    const published: PublishedInstance[] = [];
    const leftovers: Leftover[] = [];
    for (const s of stage ? [stage] : this.stageNames()) {
      const stageDir = this.inside(s);
      if (!existsSync(stageDir)) continue;
      for (const entry of readdirSync(stageDir, { withFileTypes: true })) {
        const dir = join(stageDir, entry.name);
        if (!entry.isDirectory()) {
          // A key-named entry that is not a plain directory (a symlink, a FIFO...) is damage:
          // never followed or opened, reported, and moved aside by the next run.
          if (KEY.test(entry.name))
            leftovers.push({
              stage: s,
              name: entry.name,
              dir,
              reason: entry.isSymbolicLink() ? 'is a symbolic link' : 'is not a directory',
            });
          continue;
        }
        if (!KEY.test(entry.name)) {
          leftovers.push({ stage: s, name: entry.name, dir, reason: 'not an instance key' });
          continue;
        }
        const read = readManifest(dir);
        if (read.ok && read.manifest.key === entry.name && read.manifest.stage === s)
          published.push({ stage: s, key: entry.name, dir, manifest: read.manifest });
        else leftovers.push({ stage: s, name: entry.name, dir, reason: read.ok ? 'manifest of another instance' : read.detail });
      }
    }
    return { published, leftovers };
  }

  /**
   * Resolves `KEY`, a unique key prefix, or a directory inside the store to a published instance.
   * An ambiguous prefix lists the candidates (exit 2).
   */
  resolve(ref: string): PublishedInstance {
    const looksLikePath = ref.includes('/') || ref.includes(sep) || ref.startsWith('.');
    if (looksLikePath) {
      const dir = resolve(ref);
      // A directory argument must name an instance of this store: `../x`, absolute paths elsewhere
      // and symlinks out of the store are refused before anything is read.
      if (!isWithin(this.root, dir) || dir === this.root)
        throw new UsageError(
          `${ref} is outside the store ${this.root}; give a key, a key prefix, or an instance directory inside the store`,
        );
      this.inside(relative(this.root, dir));
      const read = readManifest(dir);
      if (!read.ok) throw new UsageError(`${ref} is not a published instance (${read.detail})`);
      return this.checked({ stage: read.manifest.stage, key: read.manifest.key, dir, manifest: read.manifest });
    }
    if (!KEY_PREFIX.test(ref)) throw new UsageError(`"${ref}" is neither an instance key (prefix of hex digits) nor a directory`);
    const candidates: { stage: string; key: string }[] = [];
    for (const s of this.stageNames()) {
      for (const name of readdirSync(this.inside(s))) if (KEY.test(name) && name.startsWith(ref)) candidates.push({ stage: s, key: name });
    }
    const valid = candidates
      .map((c) => ({ ...c, dir: this.inside(c.stage, c.key), read: readManifest(this.inside(c.stage, c.key)) }))
      .filter((c) => c.read.ok);
    if (valid.length === 0) throw new UsageError(`no published instance with key ${ref}... in ${this.root}`);
    if (valid.length > 1)
      throw new UsageError(`key prefix ${ref} is ambiguous; candidates:\n${valid.map((c) => `  ${c.stage} ${c.key}`).join('\n')}`);
    const c = valid[0];
    return this.checked({ stage: c.stage, key: c.key, dir: c.dir, manifest: (c.read as { manifest: Manifest }).manifest });
  }

  /**
   * Refuses an instance whose files are symlinks, escape it, or differ from the manifest (sha256):
   * what `inspect` and `export` read is the published bytes or nothing (a corrupted table is
   * reported as damage, never handed to the Arrow reader).
   */
  private checked(inst: PublishedInstance): PublishedInstance {
    const damage = checkInstanceFiles(inst.dir, inst.manifest, { deep: true }).filter((d) => d.file !== 'manifest.json');
    if (damage.length > 0) throw new StoreError(`${inst.stage} ${inst.key} is damaged (${describeDamage(damage)}); see \`defrost verify\``);
    return inst;
  }

  /**
   * Disposes of a leftover directory at `stage`/`key` (an unfinished instance, a staging dir):
   * deleted if it provably is defrost's (attempt-mark.ts) or empty, otherwise moved to
   * `.quarantine/` with a note — never deleted (docs/reliability.md, "What defrost deletes").
   */
  disposeLeftover(
    stage: string,
    key: string,
    dir: string,
    reason: string,
  ): { removed: true } | { removed: false; to: string; why: string } {
    if (isDefrostAttempt(dir, stage, key)) {
      this.remove(dir);
      return { removed: true };
    }
    try {
      rmdirSync(this.inside(relative(this.root, resolve(dir)))); // only an empty directory: it holds nothing of anybody's
      return { removed: true };
    } catch {
      // not empty (or not a directory): keep it, out of the way
    }
    const why = `${reason}; not provably defrost's (no ${ATTEMPT_MARK} mark, no sealed manifest), so moved here, never deleted`;
    return { removed: false, to: quarantine(this, stage, key, dir, why), why };
  }

  /** Removes a directory of defrost's inside the store (never anything outside it), its evidence last. */
  remove(dir: string): void {
    this.assertMarked();
    const path = this.inside(relative(this.root, resolve(dir)));
    if (path === this.root) throw new Error('refusing to remove the store itself');
    // Evidence last (attempt-mark.ts); a symlink is removed itself, never what it points to.
    removeDefrostDir(path);
  }

  /**
   * Staging directories (and instances moved aside by a publish, `replaced-<stage>-...`):
   * `{dir, stage, key, host, pid}` parsed from their names.
   */
  stagingDirs(): { dir: string; stage: string; key: string; host: string; pid: number }[] {
    if (!existsSync(this.tmpRoot)) return [];
    const out: { dir: string; stage: string; key: string; host: string; pid: number }[] = [];
    for (const name of readdirSync(this.tmpRoot)) {
      // <stage>-<key>-<host>-<pid>-<rand>; host may contain '-', so parse from both ends.
      const m = /^(?:replaced-)?(.+)-([0-9a-f]{16})-(.+)-(\d+)-([0-9a-f]{8})$/.exec(name);
      if (!m) continue;
      out.push({ dir: join(this.tmpRoot, name), stage: m[1], key: m[2], host: m[3], pid: Number(m[4]) });
    }
    return out;
  }

  /** Age in milliseconds of a path, or Infinity if it vanished. */
  ageMs(path: string): number {
    try {
      return Date.now() - statSync(path).mtimeMs;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }
}

export const thisHost = hostname();

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
