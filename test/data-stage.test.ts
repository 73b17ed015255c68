/**
 * The `generate-data` stage as the engine calls it: outputs in `outDir`, a summary with rows and
 * class balance, and data problems surfacing as a StageFailure with a readable message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageFailure } from '../pipeline/errors.js';
import type { JsonObject, StageContext } from '../pipeline/stage.js';
import { generateDataStage } from '../stages/generate-data.js';

function context(outDir: string, params: JsonObject, lines: string[]): StageContext {
  return {
    stage: 'generate-data',
    key: 'test',
    params,
    coords: {},
    inputs: {},
    outDir,
    threads: 1,
    log: (line) => lines.push(line),
    progress: () => {},
    signal: new AbortController().signal,
  };
}

test('generate-data run writes train.arrow and test.arrow and reports rows and balance', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-stage-'));
  try {
    const lines: string[] = [];
    const params = {
      role: 'source',
      seed: 0,
      task: {
        kind: 'synthetic',
        latent_dim: 4,
        input_dim: 8,
        teacher_hidden: 0,
        classes: 2,
        source_size: 50,
        test_size: 20,
        label_noise: 0,
        input_noise: 0,
      },
    };
    const outcome = await generateDataStage.run(context(dir, params, lines));
    assert.ok(existsSync(join(dir, 'train.arrow')) && existsSync(join(dir, 'test.arrow')));
    const summary = outcome.summary as JsonObject;
    assert.equal(summary.train_rows, 50);
    assert.equal(summary.test_rows, 20);
    const balance = summary.train_balance as number[];
    assert.equal(balance.length, 2);
    assert.ok(Math.abs(balance[0] + balance[1] - 1) < 1e-3);
    assert.match(lines.join('\n'), /50 training and 20 test rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dataset that cannot be read fails the stage with a StageFailure naming the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-stage-'));
  try {
    const params = {
      role: 'target',
      seed: 0,
      correlation: null,
      task: {
        kind: 'image',
        target: { dataset: `idx:${join(dir, 'missing')}`, classes: [0, 1] },
        target_pool: 10,
        test_size: 5,
        label_noise: 0,
        input_noise: 0,
      },
    };
    await assert.rejects(generateDataStage.run(context(dir, params, [])), (error: unknown) => {
      assert.ok(error instanceof StageFailure, String(error));
      assert.match(error.message, /generate-data \(target\): .*train-labels-idx1-ubyte/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
