/**
 * Shared by the reliability tests and `make chaos`: a sandbox running the fault-injecting toy
 * project (`reliability-project.ts`), a small sweep of it, and fingerprints of a store (keys and
 * output-file sha256) to compare an abused store with an undisturbed one.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defrost, ROOT, sandbox, TOY_CONFIG, type CliResult, type Sandbox } from './engine-helpers.js';

export const RELIABILITY_MODULE = join(ROOT, 'dist', 'test', 'reliability-project.js');

/** The toy config the reliability tests run (`TOY_CONFIG`, with `SMALL_SWEEP`). */
export const SWEEP_CONFIG = TOY_CONFIG;
/** Eight values: 8 make-numbers, 8 square and 1 sum instance, in a few seconds. */
export const SMALL_SWEEP = ['--set', 'numbers.values=[1,2,3,4,5,6,7,8]'];
export const SMALL_SWEEP_SIZE = 17;

export function reliabilitySandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  return sandbox({ DEFROST_PROJECT_MODULE: RELIABILITY_MODULE, ...extraEnv });
}

/** `stage/key` -> { file path -> sha256 } for every instance with a manifest (log and manifest excluded). */
export function storeFingerprint(store: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  if (!existsSync(store)) return out;
  for (const stage of readdirSync(store).sort()) {
    if (stage.startsWith('.')) continue;
    for (const key of readdirSync(join(store, stage)).sort()) {
      const dir = join(store, stage, key);
      if (!existsSync(join(dir, 'manifest.json'))) continue;
      const files: Record<string, string> = {};
      const walk = (rel: string): void => {
        for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
          const path = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) walk(path);
          else if (path !== 'manifest.json' && path !== 'log.txt')
            files[path] = createHash('sha256')
              .update(readFileSync(join(dir, path)))
              .digest('hex');
        }
      };
      walk('');
      out.set(`${stage}/${key}`, files);
    }
  }
  return out;
}

/** Differences between two store fingerprints, one line each (empty: identical). */
export function compareFingerprints(expected: Map<string, Record<string, string>>, actual: Map<string, Record<string, string>>): string[] {
  const diffs: string[] = [];
  for (const [k, files] of expected) {
    const got = actual.get(k);
    if (!got) {
      diffs.push(`missing instance ${k}`);
      continue;
    }
    const names = new Set([...Object.keys(files), ...Object.keys(got)]);
    for (const n of names) if (files[n] !== got[n]) diffs.push(`${k}/${n}: ${files[n] ?? 'absent'} != ${got[n] ?? 'absent'}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) diffs.push(`unexpected instance ${k}`);
  return diffs;
}

/** Pids of the direct children of `pid` (the run's workers). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Entries of a store subdirectory (`.locks`, `.tmp`, `.quarantine`), ignoring absent ones. */
export function entries(store: string, sub: string): string[] {
  const dir = join(store, sub);
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Instance directories without a manifest (what a partial publish would leave). */
export function manifestlessDirs(store: string): string[] {
  const out: string[] = [];
  if (!existsSync(store)) return out;
  for (const stage of readdirSync(store)) {
    if (stage.startsWith('.')) continue;
    for (const key of readdirSync(join(store, stage)))
      if (!existsSync(join(store, stage, key, 'manifest.json'))) out.push(`${stage}/${key}`);
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A finished small sweep's store, copied afresh for each test that damages it. */
export interface FinishedStoreRig {
  /** The sandbox whose store holds the finished sweep (valid inside tests). */
  readonly box: Sandbox;
  /** A fresh copy of the finished store at `<box>/<name>`. */
  copyStore(name: string): string;
  /** defrost with `args` on the store at `store`. */
  on(store: string, args: readonly string[]): CliResult;
  /** Fails when the command printed a stack trace or an internal error. */
  noTrace(r: CliResult): void;
}

/**
 * Registers the hooks that run the small sweep once per test file and keep a pristine copy of its
 * store (the store-rule and hostile-store tests share this rig).
 */
export function finishedStoreRig(): FinishedStoreRig {
  let box: Sandbox | null = null;
  let pristine = '';
  before(() => {
    box = reliabilitySandbox();
    assert.equal(defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2']).code, 0);
    pristine = join(box.dir, 'pristine');
    cpSync(box.store, pristine, { recursive: true });
  });
  after(() => box?.cleanup());
  const sandboxOf = (): Sandbox => {
    if (box === null) throw new Error('the finished-store rig is used before its before() hook ran');
    return box;
  };
  return {
    get box() {
      return sandboxOf();
    },
    copyStore(name) {
      const dir = join(sandboxOf().dir, name);
      rmSync(dir, { recursive: true, force: true });
      cpSync(pristine, dir, { recursive: true });
      return dir;
    },
    on: (store, args) => defrost(sandboxOf(), [...args, '--store', store]),
    noTrace: (r) => assert.doesNotMatch(r.stderr, /internal error|\n\s+at \S+ \(/, r.stderr),
  };
}
