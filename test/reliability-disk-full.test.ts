/**
 * Issue 8, disk full: a store on a small tmpfs (mounted here when running as root; otherwise a stub
 * that fails writes with ENOSPC). A stage whose writes hit ENOSPC, and a publish whose own writes
 * (log copy, manifest) hit it, each fail only that instance, say "no space left on device", and leave
 * no partial instance and no staging directory; once space is back the next run completes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, lastJson, type Sandbox } from './engine-helpers.js';
import { entries, manifestlessDirs, reliabilitySandbox, SMALL_SWEEP, SMALL_SWEEP_SIZE, SWEEP_CONFIG } from './reliability-helpers.js';

let box: Sandbox;
let disk: string;
let mounted = false;
before(() => {
  box = reliabilitySandbox();
  disk = join(box.dir, 'disk');
  mkdirSync(disk, { recursive: true });
  if (process.getuid?.() === 0) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false; // no privilege to mount (a container): the stub below stands in
    }
  }
});
after(() => {
  if (mounted) execFileSync('umount', ['-l', disk], { stdio: 'ignore' });
  box.cleanup();
});

const victim = 'square{"value":3}';
let storeName = 'store-a';
const store = (): string => join(disk, storeName);
const run = (env: NodeJS.ProcessEnv, jobs = 2) =>
  defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', String(jobs), '--json', '--store', store()], env);

function assertNothingPartial(): void {
  assert.deepEqual(manifestlessDirs(store()), [], 'a partial instance was left');
  assert.deepEqual(entries(store(), '.tmp'), [], 'a staging directory was left');
  assert.equal(defrost(box, ['verify', '--store', store()]).code, 0);
}

test('a stage that fills the disk fails cleanly, saying so; the rest of the sweep finishes', () => {
  // One job: nothing else publishes while the victim holds the disk full, so exactly the victim
  // fails and exactly its one dependant (the sum) is skipped, however loaded the machine is.
  // Publishing on a full disk is the next test's case.
  const r = run({ DEFROST_FAULT: `${mounted ? 'fill' : 'enospc'}@${victim}` }, 1);
  assert.equal(r.code, 1, r.stderr);
  const s = lastJson(r);
  assert.deepEqual(
    s.failures.map((f) => f.id),
    ['square[value=3]'],
    JSON.stringify(s.failures),
  );
  assert.match(s.failures[0].reason, /no space left on device \(ENOSPC\)/);
  assert.equal(s.skipped, 1, JSON.stringify(s));
  assert.equal(s.executed, SMALL_SWEEP_SIZE - 2, JSON.stringify(s));
  assertNothingPartial();
});

test('publishing on a full disk fails cleanly and leaves nothing partial; with space back, the run completes', (t) => {
  if (!mounted) {
    t.diagnostic('not root or mount refused: the publish-path ENOSPC case needs a real small filesystem');
    return;
  }
  storeName = 'store-b';
  const ballast = join(disk, 'ballast.bin');
  // The sum runs last; it fills the disk before the engine publishes it.
  const r = run({ DEFROST_FAULT: 'ballast@sum', DEFROST_FAULT_BALLAST: ballast });
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at \S+ \(/);
  const s = lastJson(r);
  assert.ok(s.failed >= 1, JSON.stringify(s));
  for (const f of s.failures) assert.match(f.reason, /no space left on device|ENOSPC/, f.reason);
  assert.ok(
    s.failures.some((f) => /could not publish/.test(f.reason)),
    JSON.stringify(s.failures),
  );
  assertNothingPartial();
  rmSync(ballast);
  const again = run({});
  assert.equal(again.code, 0, again.stderr);
  assert.equal(lastJson(again).failed, 0);
  assertNothingPartial();
});
