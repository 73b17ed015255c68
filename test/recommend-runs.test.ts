/**
 * `defrost recommend` is recorded like `run` (docs/your-data.md#run-records): `runs --json`
 * lists it with the fields every record has, its request in `config` and its answer; `runs show`
 * prints it; `gc` keeps what a recorded recommend planned until its record is forgotten. Its
 * default store is the project root's, as `run`'s (docs/your-data.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runListings } from './engine-helpers.js';
import { defrostOn, executedByStage, fixture, FIXTURE_SETS, recommend, type CommandResult } from './recommend-fixture.js';

const lastLine = (r: CommandResult): string => r.stdout.trim().split('\n').pop() ?? '';

function wouldDelete(f: Parameters<typeof defrostOn>[0]): number {
  const gc = defrostOn(f, ['gc', '--dry-run', '--json']);
  assert.equal(gc.code, 0, gc.stderr);
  return (JSON.parse(lastLine(gc)) as { deleted: unknown[] }).deleted.length;
}

test('recommend writes a run record: runs --json lists it with its answer, runs show prints it, gc keeps it', async () => {
  const f = await fixture();
  try {
    const badName = recommend(f, ['--data', f.images, '--name', 'has space']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /--name: got "has space"/);
    assert.equal(existsSync(f.store), false, 'a bad --name touches no store');

    // 7 instances: import-data, import-source, 2 folds x (depth 0 + scratch), recommend.
    const args = ['--data', f.images, '--folds', '2', '--depths', '0', '--json'];
    const first = recommend(f, [...args, '--name', 'shoes']);
    assert.equal(first.code, 0, first.stderr);
    const answer = JSON.parse(lastLine(first)) as { l_star: number; plausible: number[]; accuracy: number[] };
    assert.match(first.stderr, /Run \d{8}-\d{6}-[0-9a-f]{4} \(shoes\) recorded: `defrost runs show shoes`/);

    const [record, ...more] = runListings(defrostOn(f, ['runs', '--json']));
    assert.deepEqual(more, []);
    assert.match(first.stderr, new RegExp(`run summary: .*"run":"${record!.id}"`));
    assert.equal(record!.name, 'shoes');
    assert.match(record!.config, /^recommend --model \S+model\.json --data \S+images --folds 2 --modes defrost --depths 0 --seed 0$/);
    assert.deepEqual(record!.overrides, FIXTURE_SETS);
    assert.deepEqual([record!.executed, record!.cached, record!.failed, record!.status], [7, 0, 0, 'finished']);
    assert.ok(record!.wall_s > 0 && typeof record!.backend === 'string');
    assert.deepEqual(
      { l_star: record!.answer?.l_star, plausible: record!.answer?.plausible, accuracy: record!.answer?.accuracy },
      { l_star: answer.l_star, plausible: answer.plausible, accuracy: answer.accuracy },
    );

    const shown = defrostOn(f, ['runs', 'show', 'shoes']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ {2}config\s+recommend --model /m);
    assert.match(shown.stdout, /^ {2}folds\s+2$/m);
    // l* with its plausible set, what `runs diff` judges a change by.
    assert.match(shown.stdout, new RegExp(`^ {2}l_star\\s+${answer.l_star} \\{${answer.plausible.join(',')}\\}$`, 'm'));
    const taken = recommend(f, [...args, '--name', 'shoes']);
    assert.equal(taken.code, 2, 'a name is one run');
    assert.match(taken.stderr, new RegExp(`--name shoes: run ${record!.id} .* is already named shoes`));

    // Asked again: nothing executes, and it is a second record.
    const again = recommend(f, args);
    assert.equal(again.code, 0, again.stderr);
    const both = runListings(defrostOn(f, ['runs', '--json']));
    assert.deepEqual([both.length, both[1]!.executed, both[1]!.cached, both[1]!.name], [2, 0, 7, null]);

    // gc keeps what a recorded recommend planned, until every record that planned it is forgotten.
    assert.equal(wouldDelete(f), 0);
    assert.equal(defrostOn(f, ['runs', 'forget', 'shoes', '--yes']).code, 0);
    assert.equal(wouldDelete(f), 0, 'the second record still needs all 7');
    assert.equal(defrostOn(f, ['runs', 'forget', 'last', '--yes']).code, 0);
    assert.equal(wouldDelete(f), 7);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test("recommend's default store is the project root's, as run's: from a subdirectory, and from outside for data in the project", async () => {
  const f = await fixture();
  const outside = mkdtempSync(join(tmpdir(), 'defrost-elsewhere-'));
  try {
    // The fixture's directory becomes a project (it holds experiments/), with net/ and images/ in it.
    mkdirSync(join(f.dir, 'experiments'));
    const notebooks = join(f.dir, 'notebooks');
    mkdirSync(notebooks);
    const args = ['--data', f.images, '--folds', '2', '--depths', '0', '--json'];
    const sub = recommend(f, args, { cwd: notebooks, store: null });
    assert.equal(sub.code, 0, sub.stderr);
    assert.ok(existsSync(join(f.dir, 'artifacts', '.run-records')), 'the store and its run record are at the project root');
    assert.equal(existsSync(join(notebooks, 'artifacts')), false, 'no store where recommend was run');
    // From a directory outside any project, the project is the one holding the data and network.
    const away = recommend(f, args, { cwd: outside, store: null });
    assert.equal(away.code, 0, away.stderr);
    assert.deepEqual(executedByStage(away.stderr), {}, "everything cached: the same store as the first run's");
    assert.equal(existsSync(join(outside, 'artifacts')), false, 'no store where recommend was run');
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
