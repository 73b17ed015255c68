/**
 * Issue 8, hostile config: a thousand random and mutated YAML documents and `--set` values go
 * through the config loader in-process (defrost's own project: the real schema, checks, planner
 * and keys), and a few through the real CLI (`make chaos` adds 4000 in-process and 200 through the CLI). Nothing may throw anything but a typed
 * UsageError/ConfigError (exit 2) whose message names the key, nothing may take long (no hang),
 * an accepted config must plan, and the CLI must never create or touch the store.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, UsageError } from '../pipeline/errors.js';
import type { AnyProject } from '../pipeline/project.js';
import { defrostProject } from '../stages/project.js';
import { ROOT, defrost, sandbox } from './engine-helpers.js';
import { hostileCases, type HostileCase } from './reliability-fuzz-cases.js';

// The CLI runs defrost's own project too: every case it gets is one the loader rejects, so
// nothing is ever trained.
const box = sandbox({ DEFROST_PROJECT_MODULE: undefined });
const project: AnyProject = defrostProject;
after(() => box.cleanup());

const BASES = ['quick.yaml', 'default.yaml', 'fashion.yaml'].map((f) => readFileSync(join(ROOT, 'experiments', f), 'utf8'));

interface Verdict {
  readonly accepted: boolean;
  readonly ms: number;
}

/** Loads one case in-process; fails the test on an untyped error or a rejection that names no key. */
async function judge(project: AnyProject, c: HostileCase, file: string): Promise<Verdict> {
  try {
    return await judgeLoad(project, c, file);
  } finally {
    // `--set __proto__.x=1` once polluted Object.prototype for the rest of the process.
    const polluted = Object.getOwnPropertyNames(Object.prototype).filter((n) => !PROTOTYPE_NAMES.has(n));
    assert.deepEqual(polluted, [], `Object.prototype polluted by ${describe(c)}`);
  }
}

const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

async function judgeLoad(project: AnyProject, c: HostileCase, file: string): Promise<Verdict> {
  const { loadConfig } = await import('../pipeline/config-loader.js');
  const { buildDag } = await import('../pipeline/dag.js');
  writeFileSync(file, c.yaml);
  const t0 = performance.now();
  try {
    const { config } = loadConfig(project, file, c.sets);
    const specs = project.plan(config);
    // Keying is linear in the plan; a few hundred instances prove it works without the cost.
    buildDag(project, specs.length <= 300 ? specs : specs.filter((sp) => sp.stage === 'generate-data' || sp.stage === 'train-source'));
    return { accepted: true, ms: performance.now() - t0 };
  } catch (error) {
    const ms = performance.now() - t0;
    if (error instanceof ConfigError) {
      assert.ok(error.issues.length > 0, `ConfigError without issues for ${describe(c)}`);
      for (const issue of error.issues) {
        assert.ok(issue.key && issue.key.length > 0, `an issue names no key for ${describe(c)}`);
        assert.ok(error.message.includes(issue.key), `message does not name ${issue.key}`);
        assert.ok(issue.allowed.length > 0, `issue ${issue.key} says nothing about what is allowed`);
      }
      return { accepted: false, ms };
    }
    if (error instanceof UsageError) {
      assert.ok(error.message.length > 0);
      return { accepted: false, ms };
    }
    assert.fail(`untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.stack ?? String(error)}\nfor ${describe(c)}`);
  }
}

function describe(c: HostileCase): string {
  return `case ${c.id} (${c.kind}): sets=${JSON.stringify(c.sets)}\n${c.yaml.slice(0, 600)}`;
}

test('1000 random and mutated configs and --set values: typed rejections naming the key, no hang', async () => {
  const dir = join(box.dir, 'fuzz');
  mkdirSync(dir, { recursive: true });
  let accepted = 0;
  let worst = 0;
  const cases = hostileCases(BASES, 1000, 8);
  for (const c of cases) {
    const v = await judge(project, c, join(dir, 'config.yaml'));
    if (v.accepted) accepted++;
    worst = Math.max(worst, v.ms);
  }
  assert.ok(worst < 3000, `one config took ${worst.toFixed(0)} ms to load (a hang?)`);
  // Most mutations break something; some must still be valid or the fuzzer is not exploring.
  assert.ok(accepted > 0 && accepted < cases.length, `accepted ${accepted} of ${cases.length}`);
});

test('hostile configs through the real CLI: exit 2, a message naming the key, no stack trace, no store', async () => {
  const dir = join(box.dir, 'cli-fuzz');
  mkdirSync(dir, { recursive: true });
  // Cases the loader rejects in-process (so that none of them starts a sweep), of every kind.
  const rejected: HostileCase[] = [];
  for (const c of hostileCases(BASES, 400, 31)) {
    if (rejected.length >= 8) break;
    if (!(await judge(project, c, join(dir, 'probe.yaml'))).accepted) rejected.push(c);
  }
  for (const c of rejected) {
    const file = join(dir, `c${c.id}.yaml`);
    writeFileSync(file, c.yaml);
    const store = join(dir, `store-${c.id}`);
    const r = defrost(box, ['run', file, '--store', store, ...c.sets.flatMap((s) => ['--set', s])]);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at \S+ \(/, describe(c));
    assert.equal(r.code, 2, `exit ${r.code} for ${describe(c)}\n${r.stderr}`);
    assert.match(r.stderr, /^defrost: /m, describe(c));
    assert.equal(existsSync(store), false, `a rejected config touched the store: ${describe(c)}`);
  }
});
