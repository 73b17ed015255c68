/**
 * Issue 2: two runs of overlapping configs at the same time compute each instance once (one
 * lock per key; the run that waits reports the instance as cached) and both finish correctly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK, defrost, defrostAsync, lastJson, publishedKeys, sandbox, type Sandbox } from './engine-helpers.js';

const SMALL = ['--set', 'seeds=[0]', '--set', 'transfer.modes=[defrost]'];
let box: Sandbox;
before(() => {
  box = sandbox({ DEFROST_TOY_SLEEP_MS: '40' });
});
after(() => box.cleanup());

test('two overlapping runs at once compute every instance exactly once', async () => {
  const trace = join(box.dir, 'trace.txt');
  const env = { DEFROST_TOY_TRACE: trace };
  const a = defrostAsync(box, ['run', QUICK, '--json', '--jobs', '2', ...SMALL], env);
  const b = defrostAsync(box, ['run', QUICK, '--json', '--jobs', '2', ...SMALL, '--set', 'similarity.k=7'], env);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const sa = lastJson(ra);
  const sb = lastJson(rb);
  const computed = readFileSync(trace, 'utf8').trim().split('\n');
  assert.equal(new Set(computed).size, computed.length, `an instance was computed twice:\n${computed.sort().join('\n')}`);
  // 31 instances each; they share all but their 2 similarity and 1 aggregate instances.
  assert.equal(computed.length, 31 + 3);
  assert.equal(sa.executed + sb.executed, 34);
  assert.equal(sa.cached + sa.executed, 31);
  assert.equal(sb.cached + sb.executed, 31);
  assert.equal(publishedKeys(box.store).length, 34);
  const v = defrost(box, ['verify']);
  assert.equal(v.code, 0, v.stdout);
});
