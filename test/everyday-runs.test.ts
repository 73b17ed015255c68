/**
 * Run records and safe gc (issue 17, points 1-2), on the engine's toy project: every `run` is
 * recorded; `runs`, `runs show`, `runs diff` and `ls` say what produced what; `gc` keeps what
 * any recorded run needs, deletes only with `--yes` (the tests have no terminal), and lists
 * what it would delete with its compute time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK, defrost, lastJson, publishedKeys, sandbox, type Sandbox } from './engine-helpers.js';

const SMALL = ['--set', 'seeds=[0]', '--set', 'transfer.modes=[defrost]'];
let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

interface Listing {
  id: string;
  name: string | null;
  date: string;
  config: string;
  overrides: string[];
  executed: number;
  cached: number;
  failed: number;
  wall_s: number;
  config_hash: string;
  status: string;
}

function runs(): Listing[] {
  const r = defrost(box, ['runs', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Listing);
}

test('every run is recorded; runs --json prints one object per line with the documented fields', () => {
  assert.deepEqual(runs(), []);
  const first = defrost(box, ['run', QUICK, '--json', ...SMALL]);
  assert.equal(first.code, 0, first.stderr);
  const second = defrost(box, ['run', QUICK, '--json', '--name', 'k7', ...SMALL, '--set', 'similarity.k=7']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Run \d{8}-\d{6}-[0-9a-f]{4} \(k7\) recorded/);

  const list = runs();
  assert.equal(list.length, 2);
  for (const field of ['id', 'name', 'date', 'config', 'overrides', 'executed', 'cached', 'failed', 'wall_s'])
    assert.ok(field in list[0]!, `runs --json lacks ${field}`);
  assert.equal(list[0]!.name, null);
  assert.equal(list[1]!.name, 'k7');
  assert.equal(list[0]!.id, lastJson<{ run: string }>(first).run);
  assert.deepEqual(list[1]!.overrides, ['seeds=[0]', 'transfer.modes=[defrost]', 'similarity.k=7']);
  assert.equal(list[0]!.executed, 31);
  assert.deepEqual([list[1]!.executed, list[1]!.cached, list[1]!.failed], [3, 28, 0]);
  assert.notEqual(list[0]!.config_hash, list[1]!.config_hash);

  const table = defrost(box, ['runs']);
  assert.match(table.stdout, /^ID\s+NAME\s+DATE \(UTC\)\s+CONFIG\s+OVERRIDES\s+EXECUTED\s+CACHED\s+FAILED\s+WALL\s+STATUS$/m);
  assert.match(table.stdout, /\bk7\b.*similarity\.k=7\s+3\s+28\s+0\s/);
});

test('runs show puts runs side by side, runs diff says what changed', () => {
  const [a] = runs();
  const shown = defrost(box, ['runs', 'show', a!.id.slice(0, 15), 'k7']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^\* similarity\.k\s+5\s+7$/m, 'differing params are marked');
  assert.match(shown.stdout, /^ {2}task\.kind\s+synthetic\s+synthetic$/m);
  const diff = defrost(box, ['runs', 'diff', a!.id, 'k7']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^params:\n {2}similarity\.k: 5 -> 7$/m);
  assert.doesNotMatch(diff.stdout, /task\.kind/);
  const json = lastJson<{ params: { field: string; a: string; b: string }[] }>(defrost(box, ['runs', 'diff', 'last', a!.id, '--json']));
  assert.deepEqual(json.params, [{ field: 'similarity.k', a: '7', b: '5' }]);
  const missing = defrost(box, ['runs', 'show', 'nosuchrun']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no recorded run "nosuchrun"; recorded: .*k7/);
  const badName = defrost(box, ['run', QUICK, '--name', 'has space', ...SMALL]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /--name: got "has space"/);
});

test('ls has a header, dates and coordinates, and names the run that made each instance', () => {
  const ls = defrost(box, ['ls', '--stage', 'similarity']);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0]!, /^STAGE\s+KEY\s+CREATED \(UTC\)\s+TIME\s+COORDINATES\s+MADE BY RUN\s+USED BY$/);
  assert.equal(lines.length, 1 + 4);
  assert.ok(
    lines.some((l) => /^similarity\s+[0-9a-f]{16}\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\S+\s+correlation=0\.8\s+k7\s+k7$/.test(l)),
    ls.stdout,
  );
  const json = lastJson<{ made_by: string[]; used_by: string[]; coords: object }[]>(
    defrost(box, ['ls', '--json', '--stage', 'generate-data']),
  );
  assert.equal(json.length, 3);
  for (const row of json) assert.equal(row.used_by.length, 2, 'both runs used every dataset');
});

test('gc keeps every recorded run; without a terminal and --yes it lists and deletes nothing', () => {
  const before = publishedKeys(box.store);
  const plain = defrost(box, ['gc']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /would delete 0 instance\(s\).*kept 34: needed by 2 recorded run\(s\)/);
  assert.deepEqual(publishedKeys(box.store), before);

  // Forget the k7 run: its own 3 instances become garbage, everything else is still needed.
  const forget = defrost(box, ['runs', 'forget', 'k7']);
  assert.equal(forget.code, 0, forget.stderr);
  const dry = defrost(box, ['gc', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal((dry.stdout.match(/^would delete /gm) ?? []).length, 3);
  assert.match(dry.stdout, /^would delete similarity [0-9a-f]{16}\s+\d+\.\ds\s+similarity\[correlation=1\]$/m);
  assert.match(dry.stderr, /would delete 3 instance\(s\) \(\d+\.\ds of compute\)/);

  const unconfirmed = defrost(box, ['gc', '--json']);
  assert.equal(unconfirmed.code, 0, unconfirmed.stderr);
  const u = lastJson<{ confirmed: boolean; deleted: unknown[]; would_delete: unknown[] }>(unconfirmed);
  assert.deepEqual([u.confirmed, u.deleted.length, u.would_delete.length], [false, 0, 3]);
  const noTty = defrost(box, ['gc']);
  assert.match(noTty.stderr, /nothing deleted: no terminal to confirm on; run `defrost gc --yes`/);
  assert.deepEqual(publishedKeys(box.store), before, 'nothing is deleted without --yes');

  const yes = defrost(box, ['gc', '--yes']);
  assert.equal(yes.code, 0, yes.stderr);
  assert.equal((yes.stdout.match(/^deleted /gm) ?? []).length, 3);
  assert.equal(publishedKeys(box.store).length, before.length - 3);
  const again = defrost(box, ['run', QUICK, '--json', ...SMALL]);
  assert.equal(lastJson(again).executed, 0, 'the recorded run still has everything it needs');
});
