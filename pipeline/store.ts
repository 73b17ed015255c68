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
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { StoreError, UsageError } from './errors.js';
import { checkInstanceFiles, describeDamage } from './integrity.js';
import { writeFileAtomic, uniqueSuffix } from './fsutil.js';
import { readManifest, type Manifest } from './manifest.js';
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

/** `--store`, else `$DEFROST_STORE`, else `./artifacts`, as an absolute path. */
export function resolveStoreRoot(option: string | undefined): string {
  return resolve(option ?? process.env.DEFROST_STORE ?? 'artifacts');
}

export class Store {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  private inside(...parts: string[]): string {
    const path = resolve(this.root, ...parts);
    if (!isWithin(this.root, path)) throw new UsageError(`path ${path} is outside the store ${this.root}`);
    if (escapesBySymlink(this.root, path))
      throw new UsageError(`path ${path} leads outside the store ${this.root} through a symbolic link planted in the store`);
    return path;
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
    return this.inside('.plans', stage, `${key}.json`);
  }
  lockPath(key: string): string {
    if (!KEY.test(key)) throw new UsageError(`"${key}" is not an instance key`);
    return this.inside('.locks', `${key}.lock`);
  }
  logPath(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    return this.inside('.logs', stage, `${key}.log`);
  }
  get tmpRoot(): string {
    return this.inside('.tmp');
  }
  get locksDir(): string {
    return this.inside('.locks');
  }
  /** A fresh staging directory for one attempt at an instance. */
  stagingDir(stage: string, key: string): string {
    this.checkStageKey(stage, key);
    const dir = this.inside('.tmp', `${stage}-${key}-${uniqueSuffix()}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Writes the plan record of an instance unless an identical one (same key) exists. */
  writePlanRecord(inst: PlannedInstance): void {
    const path = this.planPath(inst.stage, inst.key);
    if (existsSync(path)) return;
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
  }

  readPlanRecord(stage: string, key: string): PlanRecord {
    const path = this.planPath(stage, key);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new UsageError(`no plan for ${stage} ${key} in ${this.root} (run \`defrost make\` or \`defrost run\` first)`);
      throw new UsageError(`plan record ${path} is unreadable: ${(error as Error).message}`);
    }
    const parsed = planRecordSchema.safeParse(json);
    if (!parsed.success || parsed.data.stage !== stage || parsed.data.key !== key)
      throw new UsageError(`plan record ${path} is damaged; re-run \`defrost make\` or \`defrost run\``);
    return parsed.data as PlanRecord;
  }

  /** Stage directories present in the store. */
  stageNames(): string[] {
    if (!existsSync(this.root)) return [];
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
        if (!entry.isDirectory()) continue;
        const dir = join(stageDir, entry.name);
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

  /** Refuses an instance whose files are symlinks or escape it (shallow check: no hashing). */
  private checked(inst: PublishedInstance): PublishedInstance {
    const damage = checkInstanceFiles(inst.dir, inst.manifest, { deep: false }).filter((d) => d.file !== 'manifest.json');
    if (damage.length > 0) throw new StoreError(`${inst.stage} ${inst.key} is damaged (${describeDamage(damage)}); see \`defrost verify\``);
    return inst;
  }

  /** Removes a directory inside the store (never anything outside it). */
  remove(dir: string): void {
    const path = this.inside(relative(this.root, resolve(dir)));
    if (path === this.root) throw new Error('refusing to remove the store itself');
    rmSync(path, { recursive: true, force: true });
  }

  /** Staging directories: `{dir, host, pid}` parsed from their names. */
  stagingDirs(): { dir: string; host: string; pid: number }[] {
    if (!existsSync(this.tmpRoot)) return [];
    const out: { dir: string; host: string; pid: number }[] = [];
    for (const name of readdirSync(this.tmpRoot)) {
      // <stage>-<key>-<host>-<pid>-<rand>; host may contain '-', so parse from both ends.
      const m = /^(.+)-([0-9a-f]{16})-(.+)-(\d+)-([0-9a-f]{8})$/.exec(name);
      if (!m) continue;
      out.push({ dir: join(this.tmpRoot, name), host: m[3], pid: Number(m[4]) });
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

/** True if `path` is `root` or below it, lexically. */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * True if following symlinks, `path` (below `root`) ends up outside the store: its deepest
 * existing ancestor resolves outside `realpath(root)`, or a component is a dangling symlink
 * (writing through one would create its target wherever it points).
 */
export function escapesBySymlink(root: string, path: string): boolean {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return false; // no store yet: nothing in it can be a symlink
  }
  for (let probe = path; ;) {
    try {
      return !isWithin(realRoot, realpathSync(probe));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return true; // ELOOP and the like: refuse
      try {
        if (lstatSync(probe).isSymbolicLink()) return true; // dangling symlink
      } catch {
        // does not exist at all: look at the parent
      }
      const parent = dirname(probe);
      if (parent === probe || !isWithin(root, parent)) return false;
      probe = parent;
    }
  }
}
