/**
 * Shared by the reliability tests and `make chaos`: a sandbox running the fault-injecting toy
 * project (`reliability-project.ts`), a small sweep of it, and fingerprints of a store (keys and
 * output-file sha256) to compare an abused store with an undisturbed one.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sandbox, TOY_CONFIG, type Sandbox } from './engine-helpers.js';

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
