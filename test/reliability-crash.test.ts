/**
 * Issue 8, crashes: a worker that dies by SIGKILL, by a native abort (SIGABRT), by a segfault or by
 * exhausting its heap fails only its own instance — named with the signal in the summary — while
 * independent instances finish; `--retries N` recomputes it to the same key and bytes as an
 * undisturbed run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defrost, lastJson, type Sandbox } from './engine-helpers.js';
import {
  compareFingerprints,
  entries,
  manifestlessDirs,
  reliabilitySandbox,
  SMALL_SWEEP,
  SMALL_SWEEP_SIZE,
  storeFingerprint,
  SWEEP_CONFIG,
} from './reliability-helpers.js';

// Four independent square instances (the only descendant of each is sum).
const ABORT = 'square{"value":1}';
const SIGKILL = 'square{"value":2}';
const SEGV = 'square{"value":5}';
const OOM = 'square{"value":8}';
const FAULTS = `abort@${ABORT};sigkill@${SIGKILL};segv@${SEGV};oom@${OOM}`;

let crashed: Sandbox;
let retried: Sandbox;
before(() => {
  crashed = reliabilitySandbox();
  retried = reliabilitySandbox();
});
after(() => {
  crashed.cleanup();
  retried.cleanup();
});

const run = (box: Sandbox, extra: string[], env: NodeJS.ProcessEnv = {}) =>
  defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--json', ...extra], env);

test('crashed workers fail only their instances, naming the signal; independent work finishes', () => {
  // A small heap makes the `oom` instance die in a second instead of after gigabytes.
  const r = run(crashed, [], { DEFROST_FAULT: FAULTS, NODE_OPTIONS: '--max-old-space-size=96' });
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  const s = lastJson(r);
  assert.equal(s.failed, 4, JSON.stringify(s.failures));
  const reasonOf = (needle: string): string => {
    const f = s.failures.find((x) => matchesCoords(x.id, needle));
    assert.ok(f, `no failure for ${needle}: ${JSON.stringify(s.failures)}`);
    return f.reason;
  };
  assert.match(reasonOf(ABORT), /SIGABRT/);
  assert.match(reasonOf(SIGKILL), /SIGKILL/);
  assert.match(reasonOf(SEGV), /SIGSEGV/);
  // V8's "heap limit reached" ends in abort(); some builds exit 134 or report the OOM itself.
  assert.match(reasonOf(OOM), /SIGABRT|SIGKILL|code 134|heap|memory/i);
  // The other squares do not read the crashed ones; sum reads every square, so it alone is skipped.
  assert.equal(s.skipped, 1);
  assert.equal(s.executed, SMALL_SWEEP_SIZE - 5);
  assert.equal(entries(crashed.store, '.locks').filter((n) => n.endsWith('.lock')).length, 0, 'a dead worker left a lock');
  assert.deepEqual(manifestlessDirs(crashed.store), []);
  assert.equal(defrost(crashed, ['verify']).code, 0);
});

test('--retries recomputes crashed instances to the same keys and bytes as an undisturbed run', () => {
  // The crashed store of the first test, resumed without faults: its crashed instances are now
  // computed undisturbed, so it is the reference.
  const resumed = run(crashed, []);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(lastJson(resumed).executed, 5);
  // A fresh store where each fault fires once: the first attempt crashes, the retry succeeds.
  const r = run(retried, ['--retries', '2'], {
    DEFROST_FAULT: FAULTS,
    DEFROST_FAULT_ONCE_DIR: join(retried.dir, 'fired'),
    NODE_OPTIONS: '--max-old-space-size=96',
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = lastJson(r);
  assert.equal(s.failed, 0);
  assert.equal(s.executed, SMALL_SWEEP_SIZE);
  assert.match(r.stderr, /retrying .*SIGABRT/);
  assert.deepEqual(compareFingerprints(storeFingerprint(crashed.store), storeFingerprint(retried.store)), []);
});

test('--retries rejects a bad value with exit 2 naming the option', () => {
  const r = run(retried, ['--retries', '-1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--retries: got "-1"/);
});

/** `square[value=1]` matches `square{"value":1}`. */
function matchesCoords(id: string, needle: string): boolean {
  const want = needle
    .slice(needle.indexOf('{') + 1, needle.endsWith('}') ? -1 : undefined)
    .split(',')
    .map((kv) => kv.replace(/"/g, '').replace(':', '='));
  const have = id.slice(id.indexOf('[') + 1, -1).split(',');
  return id.startsWith(needle.split('{')[0]) && want.every((w) => have.includes(w));
}
