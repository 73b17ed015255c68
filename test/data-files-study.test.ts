/**
 * A study (`defrost run`) on the user's own files (docs/your-data.md): `files:<path>` names the
 * dataset of an image task. A tiny CSV study runs end to end, its classes come from the file's
 * sorted labels, editing the file re-runs generate-data (its bytes are in the key), a missing path
 * exits 2 naming it before anything runs, and an .npy of images keeps its HxWxC shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { defrostProject } from '../stages/project.js';
import { loadFileClassSubset } from '../stages/data/file-data.js';
import { scratchDir } from './stage-rig.js';
import { studyConfig, writeBlobsCsv } from './file-data-fixtures.js';

const root = defrostProject.codeRoot;

function defrostRun(config: string, store: string) {
  return spawnSync(process.execPath, [join(root, 'bin', 'defrost.js'), 'run', config, '--store', store, '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' },
    timeout: 120_000,
  });
}

/** `executed_by_stage` of the `--json` summary (the last line of stdout). */
function executedByStage(stdout: string): Record<string, number> {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return (JSON.parse(last) as { executed_by_stage: Record<string, number> }).executed_by_stage;
}

test('a study on files: data runs end to end, and editing the file re-runs generate-data', () => {
  const dir = scratchDir('files-study');
  try {
    const csv = join(dir, 'blobs.csv');
    writeBlobsCsv(csv, 140);
    const config = join(dir, 'study.yaml');
    writeFileSync(config, studyConfig(csv));
    const store = join(dir, 'store');

    const first = defrostRun(config, store);
    assert.equal(first.status, 0, first.stderr);
    const ran = executedByStage(first.stdout);
    assert.equal(ran['generate-data'], 2, JSON.stringify(ran));
    assert.ok((ran['transfer'] ?? 0) > 0, JSON.stringify(ran));

    const again = defrostRun(config, store);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(executedByStage(again.stdout)['generate-data'] ?? 0, 0, 'unchanged files re-ran generate-data');

    // One changed value: both roles read this file, so both re-run.
    writeFileSync(csv, readFileSync(csv, 'utf8').replace(/\n(a,)[-0-9.]+/, '\n$10.5'));
    const edited = defrostRun(config, store);
    assert.equal(edited.status, 0, edited.stderr);
    assert.equal(executedByStage(edited.stdout)['generate-data'], 2, 'an edited file did not re-run generate-data');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a files: dataset that does not exist exits 2 naming the key and the path, before anything runs', () => {
  const dir = scratchDir('files-study');
  try {
    const missing = join(dir, 'no-such-data.npy');
    const config = join(dir, 'study.yaml');
    writeFileSync(config, studyConfig(missing));
    const store = join(dir, 'store');
    const r = defrostRun(config, store);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /task\.source\.dataset/);
    assert.ok(r.stderr.includes(`${missing}: no such file or directory`), r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'a stack trace reached the user');
    assert.equal(existsSync(join(store, 'generate-data')), false, 'a rejected config ran something');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an .npy pair of HxWxC images keeps its shape; classes are the sorted labels; one in seven is held out for testing', async () => {
  const dir = scratchDir('files-study');
  try {
    const data = join(dir, 'pair');
    mkdirSync(data);
    const rows = 21;
    const features = new Float32Array(rows * 4 * 4 * 1).map((_, i) => (i % 16) / 16);
    const labels = new Int32Array(rows).map((_, i) => [5, 3, 9][i % 3]);
    writeFileSync(join(data, 'features.npy'), encodeNpyArray([rows, 4, 4, 1], features));
    writeFileSync(join(data, 'labels.npy'), encodeNpyArray([rows], labels));
    const subset = await loadFileClassSubset({ path: data }, [2, 0]);
    assert.deepEqual(subset.shape, [4, 4, 1]);
    assert.deepEqual(subset.classNames, ['9', '3']);
    assert.deepEqual(
      subset.train.map((c) => c.count),
      [6, 6],
    );
    assert.deepEqual(
      subset.test.map((c) => c.count),
      [1, 1],
    );
    await assert.rejects(loadFileClassSubset({ path: data }, [0, 3]), /class 3 is not in .*pair: its 3 classes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
