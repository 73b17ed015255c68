/**
 * Run records and safe gc (issue 17, points 1-2), on the engine's toy project: every `run` is
 * recorded; `runs`, `runs show`, `runs diff` and `ls` say what produced what; `gc` keeps what
 * any recorded run needs, deletes only with `--yes` (the tests have no terminal), and lists
 * what it would delete with its compute time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunListing } from '../pipeline/run-records.js';
import { TOY_CONFIG, defrost, lastJson, publishedKeys, runListings, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

const runs = (): RunListing[] => runListings(defrost(box, ['runs', '--json']));

test('every run is recorded; runs --json prints one object per line with the documented fields', () => {
  assert.deepEqual(runs(), []);
  const first = defrost(box, ['run', TOY_CONFIG, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const second = defrost(box, ['run', TOY_CONFIG, '--json', '--name', 'k7', '--set', 'sum.top=2']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Run \d{8}-\d{6}-[0-9a-f]{4} \(k7\) recorded/);

  const list = runs();
  assert.equal(list.length, 2);
  assert.equal(list[0]!.name, null);
  assert.equal(list[1]!.name, 'k7');
  assert.equal(list[0]!.id, lastJson<{ run: string }>(first).run);
  assert.deepEqual(list[1]!.overrides, ['sum.top=2']);
  assert.equal(list[0]!.executed, 9);
  assert.deepEqual([list[1]!.executed, list[1]!.cached, list[1]!.failed], [1, 8, 0]);
  assert.notEqual(list[0]!.config_hash, list[1]!.config_hash);

  const table = defrost(box, ['runs']);
  assert.match(table.stdout, /^ID\s+NAME\s+CONFIG\s+OVERRIDES\s+RAN\s+CACHED\s+WALL\s+STATUS$/m);
  assert.match(table.stdout, /\bk7\b.*sum\.top=2\s+1\s+8\s+\S+\s+finished$/m);
  const wide = defrost(box, ['runs', '--wide']);
  assert.match(wide.stdout, /^ID\s+NAME\s+DATE \(UTC\)\s+CONFIG\s+OVERRIDES\s+EXECUTED\s+CACHED\s+FAILED\s+WALL\s+STATUS$/m);
  assert.match(wide.stdout, /\bk7\b.*sum\.top=2\s+1\s+8\s+0\s/);
});

test('runs show puts runs side by side, runs diff says what changed', () => {
  const [a, b] = runs();
  // The shortest prefix of a's id that b's id does not share (both runs may start in the same
  // second, so a fixed-length prefix such as the date and time could name both).
  let length = 1;
  while (b!.id.startsWith(a!.id.slice(0, length))) length++;
  const shown = defrost(box, ['runs', 'show', a!.id.slice(0, length), 'k7']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^\* sum\.top\s+3\s+2$/m, 'differing params are marked');
  assert.match(shown.stdout, /^ {2}sum\.kind\s+plain\s+plain$/m);
  const diff = defrost(box, ['runs', 'diff', a!.id, 'k7']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^params:\n {2}sum\.top: 3 -> 2$/m);
  assert.doesNotMatch(diff.stdout, /sum\.kind/);
  const json = lastJson<{ params: { field: string; a: string; b: string }[] }>(defrost(box, ['runs', 'diff', 'last', a!.id, '--json']));
  assert.deepEqual(json.params, [{ field: 'sum.top', a: '2', b: '3' }]);
  const missing = defrost(box, ['runs', 'show', 'nosuchrun']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no recorded run "nosuchrun"; recorded: .*k7/);
  const badName = defrost(box, ['run', TOY_CONFIG, '--name', 'has space']);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /--name: got "has space"/);
});

test('ls has a header, coordinates (dates with --wide), and names the run that made each instance', () => {
  const ls = defrost(box, ['ls', '--stage', 'sum']);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0]!, /^STAGE\s+KEY\s+TIME\s+COORDINATES\s+MADE BY RUN\s+USED BY$/);
  // One sum per run (sum.top differs); it has no coordinates.
  assert.equal(lines.length, 1 + 2);
  assert.ok(
    lines.some((l) => /^sum\s+[0-9a-f]{16}\s+\S+\s+-\s+k7\s+k7$/.test(l)),
    ls.stdout,
  );
  const wide = defrost(box, ['ls', '--stage', 'sum', '--wide']).stdout.trim().split('\n');
  assert.match(wide[0]!, /^STAGE\s+KEY\s+CREATED \(UTC\)\s+TIME\s+COORDINATES\s+MADE BY RUN\s+USED BY$/);
  assert.ok(
    wide.some((l) => /^sum\s+[0-9a-f]{16}\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\S+\s+-\s+k7\s+k7$/.test(l)),
    wide.join('\n'),
  );
  const squares = defrost(box, ['ls', '--stage', 'square']).stdout;
  assert.match(squares, /^square\s+[0-9a-f]{16}\s+\S+\s+value=2\s+\d{8}-\d{6}-[0-9a-f]{4}\s+2 runs \(last k7\)$/m);
  const json = lastJson<{ made_by: string[]; used_by: string[]; coords: object }[]>(
    defrost(box, ['ls', '--json', '--stage', 'make-numbers']),
  );
  assert.equal(json.length, 4);
  for (const row of json) assert.equal(row.used_by.length, 2, 'both runs used every make-numbers instance');
});

test('gc keeps every recorded run; without a terminal and --yes it lists and deletes nothing', () => {
  const before = publishedKeys(box.store);
  const plain = defrost(box, ['gc']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /would delete 0 instance\(s\).*kept 10: needed by 2 recorded run\(s\)/);
  assert.deepEqual(publishedKeys(box.store), before);

  // Forget the k7 run: its own sum instance becomes garbage, everything else is still needed.
  const forget = defrost(box, ['runs', 'forget', 'k7', '--yes']);
  assert.equal(forget.code, 0, forget.stderr);
  const dry = defrost(box, ['gc', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal((dry.stdout.match(/^would delete /gm) ?? []).length, 1);
  assert.match(dry.stdout, /^would delete sum [0-9a-f]{16}\s+\d+\.\ds\s+sum$/m);
  assert.match(dry.stderr, /would delete 1 instance\(s\) \(\d+\.\ds of compute\)/);

  const unconfirmed = defrost(box, ['gc', '--json']);
  assert.equal(unconfirmed.code, 0, unconfirmed.stderr);
  const u = lastJson<{ confirmed: boolean; deleted: unknown[]; would_delete: unknown[] }>(unconfirmed);
  assert.deepEqual([u.confirmed, u.deleted.length, u.would_delete.length], [false, 0, 1]);
  const noTty = defrost(box, ['gc']);
  assert.match(noTty.stderr, /nothing deleted: no terminal to confirm on; run `defrost gc --yes`/);
  assert.deepEqual(publishedKeys(box.store), before, 'nothing is deleted without --yes');

  const yes = defrost(box, ['gc', '--yes']);
  assert.equal(yes.code, 0, yes.stderr);
  assert.equal((yes.stdout.match(/^deleted /gm) ?? []).length, 1);
  assert.equal(publishedKeys(box.store).length, before.length - 1);
  const again = defrost(box, ['run', TOY_CONFIG, '--json']);
  assert.equal(lastJson(again).executed, 0, 'the recorded run still has everything it needs');
});
