/**
 * The `generate-data` stage as the engine calls it: outputs in `outDir`, a summary with rows and
 * class balance, and data problems surfacing as a StageFailure with a readable message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StageFailure } from '../pipeline/errors.js';
import type { z } from 'zod';
import type { JsonObject } from '../pipeline/stage.js';
import { generateDataStage } from '../stages/data/generate-data.js';
import { scratchDir, stageContext } from './stage-rig.js';

/** Runs the stage through the shared rig; `lines` collects its log. */
function run(outDir: string, params: z.input<typeof generateDataStage.params>, lines: string[]) {
  const rigged = stageContext(generateDataStage, { params, inputs: {}, outDir });
  return generateDataStage.run(rigged.ctx).finally(() => lines.push(...rigged.lines));
}

test('generate-data run writes train.arrow, validation.arrow and test.arrow and reports rows and balance', async () => {
  const dir = scratchDir('stage');
  try {
    const lines: string[] = [];
    const params = {
      role: 'source' as const,
      seed: 0,
      task: {
        kind: 'synthetic' as const,
        latent_dim: 4,
        input_dim: 8,
        teacher_hidden: 0,
        classes: 2,
        source_size: 50,
        test_size: 20,
        validation_size: 30,
        label_noise: 0,
        input_noise: 0,
      },
    };
    const outcome = await run(dir, params, lines);
    for (const file of ['train.arrow', 'validation.arrow', 'test.arrow']) assert.ok(existsSync(join(dir, file)), file);
    const summary = outcome.summary as JsonObject;
    assert.equal(summary.train_rows, 50);
    assert.equal(summary.test_rows, 20);
    assert.equal(summary.validation_rows, 30);
    const balance = summary.train_balance as number[];
    assert.equal(balance.length, 2);
    assert.ok(Math.abs(balance[0] + balance[1] - 1) < 1e-3);
    assert.match(lines.join('\n'), /50 training and 20 test rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dataset that cannot be read fails the stage with a StageFailure naming the problem', async () => {
  const dir = scratchDir('stage');
  try {
    const params = {
      role: 'target' as const,
      seed: 0,
      correlation: null,
      task: {
        kind: 'image' as const,
        target: { dataset: `idx:${join(dir, 'missing')}`, classes: [0, 1] },
        target_pool: 10,
        test_size: 5,
        selection_size: 5,
        label_noise: 0,
        input_noise: 0,
      },
    };
    await assert.rejects(run(dir, params, []), (error: unknown) => {
      assert.ok(error instanceof StageFailure, String(error));
      assert.match(error.message, /generate-data \(target\): .*train-labels-idx1-ubyte/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
