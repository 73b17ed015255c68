/**
 * Status and progress (issue 17, point 5): `new` only when no earlier run of the same config
 * has an instance at those coordinates; `status --changed` grouped by reason with counts; the
 * live view's bar, k/N, elapsed, time left and per-stage counts; `[k/N]` on log lines; and
 * `dag --stages`, the stage graph with instance counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ProgressView } from '../pipeline/progress.js';
import type { PlannedInstance } from '../pipeline/dag.js';
import { QUICK, defrost, lastJson, sandbox, type Sandbox } from './engine-helpers.js';

const SMALL = ['--set', 'seeds=[0]', '--set', 'transfer.modes=[defrost]'];
let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

interface StatusJson {
  total: number;
  cached: number;
  by_reason: Record<string, number>;
  instances: { id: string; reason: string | null }[];
}

test('status: new for a config never run, params changed for a variant of a run config; --changed groups by reason', () => {
  assert.equal(defrost(box, ['run', QUICK, ...SMALL]).code, 0);
  // The same study under another file name has never run: everything not cached is new.
  const other = join(box.dir, 'other.yaml');
  copyFileSync(QUICK, other);
  const fresh = lastJson<StatusJson>(defrost(box, ['status', other, ...SMALL, '--set', 'similarity.k=7', '--json']));
  assert.deepEqual(fresh.by_reason, { new: 3 }, 'another config\'s instances are not "earlier instances"');
  // A variant of the config that ran: the similarity instances changed a param, aggregate an input.
  const variant = defrost(box, ['status', QUICK, ...SMALL, '--set', 'similarity.k=7', '--changed']);
  assert.equal(variant.code, 0, variant.stderr);
  assert.match(variant.stdout, /^params changed \(2\):\n {2}[0-9a-f]{16} similarity\[correlation=1\] {2}\(similarity\.k 5 -> 7\)$/m);
  assert.match(variant.stdout, /^input changed \(1\):\n {2}[0-9a-f]{16} aggregate/m);
  assert.doesNotMatch(variant.stdout, /^cached/m, '--changed lists only what would run');
  assert.match(variant.stdout, /^31 instances: 28 cached, 3 to run \(params changed 2, input changed 1\)$/m);
});

test('dag --stages draws one node per stage with its instance count', () => {
  const m = defrost(box, ['dag', QUICK, ...SMALL, '--stages']);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /s_transfer\["transfer \(18\)"\]/);
  assert.match(m.stdout, /s_train_source --> s_transfer/);
  assert.equal(m.stdout.trim().split('\n').length, 1 + 6 + 10);
  const d = defrost(box, ['dag', QUICK, ...SMALL, '--stages', '--format', 'dot']);
  assert.match(d.stdout, /"transfer" -> "aggregate" \[label="18"\];/);
});

function inst(stage: string, n: number): PlannedInstance {
  return {
    id: `${stage}[i=${n}]`,
    stage,
    key: n.toString(16).padStart(16, '0'),
    coords: {},
    params: {},
    inputs: {},
    code: { fingerprint: 'x', files: [] },
  } as PlannedInstance;
}

test('progress: log lines carry [k/N]; the live view has a bar, k/N, elapsed, time left and per-stage counts', () => {
  const plan = [inst('a', 1), inst('a', 2), inst('b', 3), inst('b', 4)];
  const log = new PassThrough();
  let logged = '';
  log.on('data', (d: Buffer) => (logged += d.toString()));
  const plain = new ProgressView(log, { live: false });
  plain.setPlan(plan);
  plain.planned(4, [plan[0]!]);
  plain.start(plan[1]!);
  plain.finish(plan[1]!, { status: 'executed', seconds: 1 });
  plain.finish(plan[2]!, { status: 'failed', reason: 'boom' });
  assert.match(logged, /^\[2\/4\] done {3}a\[i=2\]/m);
  assert.match(logged, /^\[3\/4\] FAILED b\[i=3\]/m);

  const live = new ProgressView(new PassThrough(), { live: true });
  live.setPlan(plan);
  live.planned(4, [plan[0]!]);
  live.finish(plan[1]!, { status: 'executed', seconds: 1 });
  const bar = live.overall(100);
  assert.match(bar, /^\[#+-+\] 50% 2\/4 {2}elapsed \d+\.\ds {2}left ~\d+\.\ds$/);
  assert.equal(live.stageCounts(), 'a 2/2  b 0/2');
  live.close();
});
