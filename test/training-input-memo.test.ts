/**
 * Training inputs through the worker memo (stages/lib/models/input-memo.ts, docs/performance.md
 * "Per-instance overhead"): a transfer served its data tables and source network by a memo that
 * earlier instances filled writes the same bytes as the same transfer in a fresh worker, and a
 * source network changed in place (new bytes, so a new digest) is never served from the memo.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NO_MEMO, WorkerMemo, type Memo } from '../pipeline/worker-memo.js';
import { buildNetwork, saveNetwork } from '../stages/lib/models/models.js';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { runTransfer } from '../stages/training/training-job.js';
import { transferStage } from '../stages/training/transfer.js';
import { scratchDir, stageContext } from './stage-rig.js';
import { DIM, linearTask, RECIPE, TINY_MLP, useCpuBackend } from './training-fixtures.js';

const root = scratchDir('training-input-memo');
before(useCpuBackend);
after(() => rmSync(root, { recursive: true, force: true }));

function writeTarget(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const meta = { shape: [DIM], classes: ['a', 'b', 'c'], provenance: { test: 'input-memo' } };
  writeDataset(join(dir, 'train.arrow'), { ...linearTask(120, 'pool'), ...meta });
  writeDataset(join(dir, 'validation.arrow'), { ...linearTask(60, 'validation'), ...meta });
  writeDataset(join(dir, 'selection.arrow'), { ...linearTask(60, 'selection'), ...meta });
  writeDataset(join(dir, 'test.arrow'), { ...linearTask(80, 'test'), ...meta });
  return dir;
}

/** A source network of `seed`'s weights written to `dir/model` (over whatever was there). */
async function writeSource(dir: string, seed: number): Promise<void> {
  const net = buildNetwork(TINY_MLP, seed, 'source/init');
  await saveNetwork(net, join(dir, 'model'));
  net.dispose();
}

const params = {
  model: { kind: 'mlp' as const, hidden: [...TINY_MLP.hidden], activation: 'relu' as const, kernel_size: 3, pool_after: [] },
  train: { ...RECIPE, early_stopping: { patience: 2, max_epochs: 6, monitor: 'val_accuracy' as const, check_steps: 4 } },
  correlation: 0.9,
  n: 100,
  validation: 'external' as const,
  mode: 'defrost' as const,
  depth: 2,
};

test('a transfer served its inputs by the memo writes the bytes of a fresh worker; a changed source network is not served from it', async () => {
  const data = writeTarget(join(root, 'target'));
  const source = join(root, 'source');
  await writeSource(source, 1);
  /** The transfer's output files, as an instance would publish them; the memo trimmed after it, as exec does. */
  const transfer = async (memo: Memo, seed: number): Promise<Record<string, Buffer>> => {
    const rig = stageContext(transferStage, {
      params: { ...params, seed },
      inputs: { data: { dir: data, stage: 'generate-data' }, source: { dir: source, stage: 'train-source' }, prefix: [], race: [] },
      memo,
    });
    await runTransfer(rig.ctx);
    if (memo instanceof WorkerMemo) memo.trim();
    return { curve: readFileSync(rig.ctx.output('curve')), metrics: readFileSync(rig.ctx.output('metrics')) };
  };

  const memo = new WorkerMemo(64e6);
  try {
    await transfer(memo, 0);
    const filled = memo.stats();
    assert.equal(filled.misses, 5, 'four tables and the source network made once');
    const reused = await transfer(memo, 1);
    assert.equal(memo.stats().hits, 5, 'the second transfer got all five from the memo');
    assert.equal(memo.stats().misses, 5);
    assert.deepEqual(reused, await transfer(NO_MEMO, 1), 'same bytes as a fresh worker');

    // New weights under the same path: a new digest, so the network is made again.
    await writeSource(source, 2);
    const changed = await transfer(memo, 1);
    assert.equal(memo.stats().misses, 6, 'the changed network missed the memo; the unchanged tables hit it');
    assert.deepEqual(changed, await transfer(NO_MEMO, 1), 'same bytes as a fresh worker on the new network');
    assert.notDeepEqual(changed.metrics, reused.metrics, 'the old network was not used');
  } finally {
    memo.clear();
  }
});
