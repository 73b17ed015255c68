/**
 * Impossible data settings are rejected before anything runs (exit 2, naming the key and what is
 * allowed): more target samples than the pool, more images than a class subset holds, a class a
 * dataset does not have. Loads the real experiment files with `--set` overrides, and runs the
 * CLI once per case to check the exit code and message users see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../pipeline/errors.js';
import { loadConfig } from '../pipeline/config-loader.js';
import { defrostProject } from '../stages/project.js';
import { scratchDir } from './stage-rig.js';

const root = defrostProject.codeRoot;
const fashion = join(root, 'experiments', 'fashion.yaml');
const quick = join(root, 'experiments', 'quick.yaml');

/** The issues (key -> allowed) a config with these overrides is rejected with; {} when it loads. */
function issuesOf(file: string, sets: string[]): Record<string, string> {
  try {
    loadConfig(defrostProject, file, sets);
    return {};
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    return Object.fromEntries(error.issues.map((i) => [i.key, i.allowed]));
  }
}

test('experiments/fashion.yaml is valid: Fashion-MNIST 0-4 -> 5-9 with the docs/science.md#real-images CNN', () => {
  const { config } = loadConfig(defrostProject, fashion);
  assert.equal(config.task.kind, 'image');
  if (config.task.kind !== 'image') return;
  assert.deepEqual(config.task.source, { dataset: 'fashion-mnist', classes: [0, 1, 2, 3, 4] });
  assert.deepEqual(config.task.target, { dataset: 'fashion-mnist', classes: [5, 6, 7, 8, 9] });
  assert.deepEqual(config.model, { kind: 'cnn', hidden: [32, 32, 64, 64], kernel_size: 3, pool_after: [1, 2], activation: 'relu' });
});

test('more target samples than the pool is rejected naming the key', () => {
  const issues = issuesOf(quick, ['task.target_sizes=[20,401]']);
  assert.deepEqual(Object.keys(issues), ['task.target_sizes[1]']);
  assert.match(issues['task.target_sizes[1]'], /at most task.target_pool = 400/);
});

test('sizes beyond what the class subsets hold are rejected with the maximum', () => {
  const issues = issuesOf(fashion, [
    'task.source_size=30001',
    'task.target_pool=30001',
    'task.target_sizes=[20]',
    'task.target_reference_size=20',
    'task.test_size=5001',
  ]);
  assert.deepEqual(Object.keys(issues).sort(), ['task.source_size', 'task.target_pool', 'task.test_size']);
  assert.match(issues['task.source_size'], /at most 30000/);
  assert.match(issues['task.target_pool'], /at most 30000/);
  assert.match(issues['task.test_size'], /at most 5000/);
  // Exactly the maximum is fine: the pool and the validation set share the training split.
  assert.deepEqual(issuesOf(fashion, ['task.source_size=29000', 'task.validation_size=1000', 'task.test_size=5000']), {});
  const crowded = issuesOf(fashion, ['task.source_size=29500', 'task.validation_size=1000']);
  assert.deepEqual(Object.keys(crowded), ['task.validation_size']);
  assert.match(crowded['task.validation_size'], /at most 30000/);
});

test('a class the dataset does not have is rejected naming the key', () => {
  const issues = issuesOf(fashion, ['task.target.classes=[5,6,10]']);
  assert.deepEqual(Object.keys(issues), ['task.target.classes[2]']);
  assert.match(issues['task.target.classes[2]'], /0 to 9/);
  const missing = issuesOf(fashion, ['task.source.dataset=idx:/nonexistent/defrost-data']);
  assert.deepEqual(Object.keys(missing), ['task.source.dataset']);
  assert.match(missing['task.source.dataset'], /does not exist/);
});

test('defrost run exits 2 naming the key for impossible data settings, before touching the store', () => {
  const dir = scratchDir('data-cli');
  try {
    // An IDX dataset whose training split has classes 0 and 1 only.
    const data = join(dir, 'idx');
    mkdirSync(data);
    const labels = Buffer.from([0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 0, 1]);
    const images = Buffer.alloc(16 + 4);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(4, 4);
    images.writeUInt32BE(1, 8);
    images.writeUInt32BE(1, 12);
    for (const split of ['train', 't10k']) {
      writeFileSync(join(data, `${split}-labels-idx1-ubyte`), labels);
      writeFileSync(join(data, `${split}-images-idx3-ubyte`), images);
    }
    const config = join(dir, 'absent-class.yaml');
    writeFileSync(
      config,
      [
        'task:',
        '  kind: image',
        `  source: {dataset: "idx:${data}", classes: [0, 1]}`,
        `  target: {dataset: "idx:${data}", classes: [1, 2]}`,
        '  source_size: 4',
        '  target_pool: 4',
        '  target_sizes: [2, 4]',
        '  target_reference_size: 4',
        '  test_size: 4',
        'similarity: {probe_size: 4, k: 1}',
      ].join('\n'),
    );
    const store = join(dir, 'store');
    const run = (args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin', 'defrost.js'), 'run', ...args, '--store', store], { cwd: root, encoding: 'utf8' });

    const absent = run([config]);
    assert.equal(absent.status, 2, absent.stderr);
    assert.match(absent.stderr, /task\.target\.classes\[1\]: got 2/);
    assert.doesNotMatch(absent.stderr, /at .*\.js:\d+/, 'a stack trace reached the user');

    const tooMany = run([quick, '--set', 'task.target_sizes=[20,401]']);
    assert.equal(tooMany.status, 2, tooMany.stderr);
    assert.match(tooMany.stderr, /task\.target_sizes\[1\]: got 401; allowed: at most task\.target_pool = 400/);
    assert.equal(existsSync(join(store, 'generate-data')), false, 'a rejected config ran something');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
