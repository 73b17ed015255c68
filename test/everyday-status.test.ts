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
import { TOY_CONFIG, defrost, lastJson, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

interface StatusJson {
  total: number;
  cached: number;
  by_reason: Record<string, number>;
  instances: { id: string; reason: string | null }[];
}

test('status: new for a config never run, params changed for a variant of a run config; --changed groups by reason', () => {
  assert.equal(defrost(box, ['run', TOY_CONFIG]).code, 0);
  // The same study under another file name has never run: everything not cached is new.
  const other = join(box.dir, 'other.yaml');
  copyFileSync(TOY_CONFIG, other);
  const fresh = lastJson<StatusJson>(defrost(box, ['status', other, '--set', 'square.offset=1', '--json']));
  assert.deepEqual(fresh.by_reason, { new: 5 }, 'another config\'s instances are not "earlier instances"');
  // A variant of the config that ran: the square instances changed a param, sum an input.
  const variant = defrost(box, ['status', TOY_CONFIG, '--set', 'square.offset=1', '--changed']);
  assert.equal(variant.code, 0, variant.stderr);
  assert.match(variant.stdout, /^params changed \(4\):\n {2}[0-9a-f]{16} square\[value=\d\] {2}\(square\.offset 0 -> 1\)$/m);
  assert.match(variant.stdout, /^input changed \(1\):\n {2}[0-9a-f]{16} sum/m);
  assert.doesNotMatch(variant.stdout, /^cached/m, '--changed lists only what would run');
  assert.match(variant.stdout, /^9 instances: 4 cached, 5 to run \(params changed 4, input changed 1\)$/m);
});

test('dag --stages draws one node per stage with its instance count', () => {
  const m = defrost(box, ['dag', TOY_CONFIG, '--stages']);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /s_square\["square \(4\)"\]/);
  assert.match(m.stdout, /s_make_numbers --> s_square/);
  // The header, 3 stages, 2 stage edges.
  assert.equal(m.stdout.trim().split('\n').length, 1 + 3 + 2, m.stdout);
  const d = defrost(box, ['dag', TOY_CONFIG, '--stages', '--format', 'dot']);
  assert.match(d.stdout, /"square" -> "sum" \[label="4"\];/);
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
