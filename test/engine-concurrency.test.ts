/**
 * Issue 2: two runs of overlapping configs at the same time compute each instance once (one
 * lock per key; the run that waits reports the instance as cached) and both finish correctly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, defrost, defrostAsync, lastJson, publishedKeys, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox({ DEFROST_TOY_SLEEP_MS: '100' });
});
after(() => box.cleanup());

test('two overlapping runs at once compute every instance exactly once', async () => {
  const trace = join(box.dir, 'trace.txt');
  const env = { DEFROST_TOY_TRACE: trace };
  const a = defrostAsync(box, ['run', TOY_CONFIG, '--json', '--jobs', '2'], env);
  const b = defrostAsync(box, ['run', TOY_CONFIG, '--json', '--jobs', '2', '--set', 'sum.top=2'], env);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const sa = lastJson(ra);
  const sb = lastJson(rb);
  const computed = readFileSync(trace, 'utf8').trim().split('\n');
  assert.equal(new Set(computed).size, computed.length, `an instance was computed twice:\n${computed.sort().join('\n')}`);
  // 9 instances each; they share all but their sum instance.
  assert.equal(computed.length, 9 + 1);
  assert.equal(sa.executed + sb.executed, 10);
  assert.equal(sa.cached + sa.executed, 9);
  assert.equal(sb.cached + sb.executed, 9);
  assert.equal(publishedKeys(box.store).length, 10);
  const v = defrost(box, ['verify']);
  assert.equal(v.code, 0, v.stdout);
});
