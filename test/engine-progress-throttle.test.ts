/** The worker's progress throttle (`pipeline/progress-throttle.ts`), on a fake clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressThrottle } from '../pipeline/progress-throttle.js';
import type { ProgressUpdate } from '../pipeline/stage.js';

test('progress goes out at most once per interval, the latest update wins, cancel drops the held one', () => {
  let clock = 0;
  const sent: ProgressUpdate[] = [];
  const throttle = new ProgressThrottle(
    (u) => sent.push(u),
    200,
    () => clock,
  );
  throttle.update({ epoch: 1 });
  assert.deepEqual(sent, [{ epoch: 1 }], 'the first update goes out at once');
  for (let epoch = 2; epoch <= 2000; epoch++) {
    clock += 0.05;
    throttle.update({ epoch });
  }
  // 2,000 epochs in 100 ms: none sent after the first, the last one held.
  assert.deepEqual(sent, [{ epoch: 1 }]);
  clock = 250;
  throttle.update({ epoch: 2001 });
  assert.deepEqual(sent, [{ epoch: 1 }, { epoch: 2001 }], 'past the interval the latest goes out with the next call');
  throttle.update({ epoch: 2002 });
  throttle.cancel();
  throttle.flush();
  assert.deepEqual(sent, [{ epoch: 1 }, { epoch: 2001 }], 'a cancelled update is never sent');
});

test('a held update goes out when the interval ends, if the stage yields', async () => {
  const sent: ProgressUpdate[] = [];
  const throttle = new ProgressThrottle((u) => sent.push(u), 30);
  throttle.update({ epoch: 1 });
  throttle.update({ epoch: 2 });
  throttle.update({ epoch: 3 });
  assert.deepEqual(sent, [{ epoch: 1 }]);
  await sleep(80);
  assert.deepEqual(sent, [{ epoch: 1 }, { epoch: 3 }]);
});
