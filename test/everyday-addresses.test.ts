/**
 * Readable artifact addresses and run records (issue 23), on the engine's toy project:
 * `inspect`, `export` and `ls` take `last`, a run's name, and `stage[coord=value,...]` (partial
 * when unique, `@RUN` to pick a run; ambiguity exits 2 listing the candidates and the coordinates
 * that tell them apart); `runs` lists runs in progress and fits 100 columns; a run name is one
 * run; `runs forget` needs a yes; `runs diff` says whether a changed answer is significant.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, atTerminal, defrost, defrostAsync, lastJson, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
  assert.equal(defrost(box, ['run', TOY_CONFIG, '--json', '--name', 'base']).code, 0);
  assert.equal(defrost(box, ['run', TOY_CONFIG, '--json', '--name', 'top2', '--set', 'sum.top=2']).code, 0);
});
after(() => box.cleanup());

/** The first line of `inspect`: `<stage> <key>  <id>`. */
function inspected(address: string): string {
  const r = defrost(box, ['inspect', address]);
  assert.equal(r.code, 0, `${address}: ${r.stderr}`);
  return r.stdout.split('\n')[0]!;
}

test('inspect and export take last, a run name, and stage[coord=value] addresses', () => {
  const lastSum = inspected('last');
  assert.match(lastSum, /^sum [0-9a-f]{16}\s+sum$/, 'last: the last run’s result');
  assert.equal(inspected('top2'), lastSum);
  assert.notEqual(inspected('base'), lastSum, 'each run has its own sum (sum.top differs)');
  assert.match(inspected('square[value=2]'), /^square [0-9a-f]{16}\s+square\[value=2\]$/, 'square instances are shared by both runs');
  assert.equal(inspected('sum@base'), inspected('base'), '@RUN picks among the instances of one run');
  const key = lastSum.split(' ')[1]!;
  assert.equal(inspected(key.slice(0, 8)), lastSum, 'a key prefix still works');

  const csv = defrost(box, ['export', 'make-numbers[value=3]', '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /^value,label,name\n3,/);
});

test('ambiguous, unknown or malformed addresses exit 2 saying what to write', () => {
  const cases: [string, RegExp][] = [
    [
      'sum',
      /sum names 2 instances; they share every coordinate \(made by different configs\): add @RUN .*\n {2}sum [0-9a-f]{16}\n {2}sum [0-9a-f]{16}/,
    ],
    ['square', /square names 4 instances; add coordinates that tell them apart: value:\n {2}square\[value=1\] [0-9a-f]{16}/],
    ['square[valeu=2]', /square has no coordinate "valeu"; did you mean value\?; its coordinates: value/],
    ['sqaure[value=2]', /no stage "sqaure" in the store .*; did you mean square\?/],
    ['square[value=9]', /no published instance matches square\[value=9\]/],
    ['square[value]', /"value" is not a coordinate; write stage\[name=value,...\]/],
    ['bsae', /no instance or run "bsae"; did you mean base\?/],
  ];
  for (const [address, message] of cases) {
    const r = defrost(box, ['inspect', address]);
    assert.equal(r.code, 2, `${address}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, address);
  }
});

test('ls ADDRESS lists what it names: every match of a partial address, every instance of a run', () => {
  const rows = (address: string): string[] => {
    const r = defrost(box, ['ls', address]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').slice(1);
  };
  assert.equal(rows('square').length, 4);
  assert.equal(rows('square[value=2]').length, 1);
  assert.equal(rows('base').length, 9, 'a run: the 9 instances it planned');
  assert.equal(rows('last').filter((l) => l.startsWith('sum ')).length, 1);
});

test('runs diff says whether a changed answer is a significant change, from both plausible sets', () => {
  const near = defrost(box, ['runs', 'diff', 'base', 'top2']);
  assert.equal(near.code, 0, near.stderr);
  assert.match(near.stdout, /^ {2}top: 3 -> 2, within both plausible sets \(\{2,3,4\} and \{1,2,3\}\): not a significant change$/m);
  const ran = defrost(box, ['run', TOY_CONFIG, '--json', '--name', 'top1', '--set', 'sum.top=1']);
  assert.equal(ran.code, 0, ran.stderr);
  const far = defrost(box, ['runs', 'diff', 'base', 'top1']);
  for (const line of far.stdout.split('\n')) assert.ok(line.length <= 100, line);
  assert.match(
    far.stdout.replace(/\n {6}/g, ' '),
    /^ {2}top: 3 -> 1, 3 is outside the plausible set \{0,1,2\} of top1; 1 is outside the plausible set \{2,3,4\} of base: a significant change$/m,
  );
  assert.match(far.stdout, /^1 of 1 changed value\(s\) significant/m);
  const json = lastJson<{ answer: { field: string; significant: boolean }[] }>(defrost(box, ['runs', 'diff', 'base', 'top1', '--json']));
  assert.deepEqual(
    json.answer.map((d) => [d.field, d.significant]),
    [['top', true]],
  );
  const shown = defrost(box, ['runs', 'show', 'top1']);
  assert.match(shown.stdout, /^ {2}top\s+1 \{0,1,2\}$/m, 'runs show gives each answer with its plausible set');
});

test('a run name is one run: a second run of the same name exits 2 naming the first', () => {
  const again = defrost(box, ['run', TOY_CONFIG, '--name', 'base']);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /--name base: run \d{8}-\d{6}-[0-9a-f]{4} \(.* UTC\) is already named base; choose another name, or drop that record first with `defrost runs forget base`/,
  );
});

test('runs lists runs in progress (status running); its default table fits 100 columns; --wide has the rest', async () => {
  const slow = defrostAsync(
    box,
    [
      'run',
      TOY_CONFIG,
      '--name',
      'slow-run',
      '--set',
      'sum.top=1',
      '--jobs',
      '1',
      '--set',
      `numbers.values=[${Array.from({ length: 30 }, (_, i) => i + 10).join(',')}]`,
    ],
    {
      DEFROST_TOY_SLEEP_MS: '300',
    },
  );
  try {
    let listed = '';
    for (let i = 0; i < 100 && !/slow-run/.test(listed); i++) {
      await new Promise((r) => setTimeout(r, 200));
      listed = defrost(box, ['runs']).stdout;
    }
    assert.match(listed, /^\d{8}-\d{6}-[0-9a-f]{4}\s+slow-run\s+.*\s+-\s+-\s+\S+\s+running$/m);
    const json = defrost(box, ['runs', '--json'])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; status: string });
    assert.equal(json.find((r) => r.name === 'slow-run')?.status, 'running');
    const taken = defrost(box, ['run', TOY_CONFIG, '--name', 'slow-run']);
    assert.match(taken.stderr, /--name slow-run: .*running now\) is already named slow-run/);
  } finally {
    slow.child.kill('SIGINT');
    await slow.done;
  }
  // A long --set and config path: the cells are shortened, never the table wider than 100.
  const long = defrost(box, [
    'run',
    TOY_CONFIG,
    '--name',
    'a-rather-long-name-for-a-run',
    '--set',
    `numbers.values=[${Array.from({ length: 40 }, (_, i) => i + 1).join(',')}]`,
  ]);
  assert.equal(long.code, 0, long.stderr);
  const table = defrost(box, ['runs']).stdout.trimEnd().split('\n');
  for (const line of table) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  assert.match(table.join('\n'), /numbers\.val\S*\.\.\./, 'a shortened cell ends in ...');
  const wide = defrost(box, ['runs', '--wide']).stdout;
  assert.match(wide, /numbers\.values=\[1,2,3,.*,40\]/, '--wide shows whole cells');
});

test('runs forget asks at a terminal; without one it needs --yes', () => {
  const refused = defrost(box, ['runs', 'forget', 'top1']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /runs forget: no terminal to confirm on; add --yes to forget this run: \S+ \(top1\)/);
  assert.match(defrost(box, ['runs']).stdout, /top1/, 'nothing forgotten');
  const ask = (answer: string) => atTerminal(box, ['runs', 'forget', 'top1'], answer);
  const no = ask('n');
  assert.match(no.stdout, /Forget this run \(results stay until `defrost gc`\)\? \[y\/N\]/);
  assert.match(no.stdout, /nothing forgotten/);
  assert.match(defrost(box, ['runs']).stdout, /top1/);
  const yes = ask('y');
  assert.match(yes.stdout, /forgot run \S+ \(top1\)/);
  assert.doesNotMatch(defrost(box, ['runs']).stdout, /top1/);
  assert.equal(defrost(box, ['runs', 'forget', 'top2', '--yes']).code, 0, '--yes forgets without asking');
});
