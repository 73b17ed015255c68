/**
 * Default terminal output fits 100 columns (issue 23, pipeline/terminal-width.ts): `run`,
 * `report`, `runs` (and `runs show`, `ls` and `inspect` on the same store) and `recommend`, run
 * as a user runs them (no --json, no --wide), print no line of more than 100 columns on stdout or
 * stderr — the progress log, the summary, the answer, the paths. The study is quick.yaml cut to
 * its longest coordinates (correlation 0.95, n = 400, two seeds); `recommend` runs on the
 * recommend tests' image folder. And the folding itself: at spaces, an interval kept with its
 * number, a long path never cut; table cells (`runs show`) fold within their column, after
 * commas, with nothing cut.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { foldTable } from '../pipeline/cli/table.js';
import { columnsOf, TERMINAL_WIDTH, wrapWords } from '../pipeline/terminal-width.js';
import { BIN, QUICK } from './engine-helpers.js';
import { fixture, recommend } from './recommend-fixture.js';
import { scratchDir } from './stage-rig.js';

/** Every line of a command's stdout and stderr longer than 100 columns. */
function wideLines(output: { stdout: string; stderr: string }): string[] {
  return [...output.stdout.split('\n'), ...output.stderr.split('\n')].filter((line) => columnsOf(line) > TERMINAL_WIDTH);
}

test('wrapWords folds at spaces, keeps an interval with its number, never cuts a long word', () => {
  const text = `freeze 2 of 4 blocks: ${'+4.1 points [+2.0, +6.2] over freezing all 4, '.repeat(4)}done.`;
  const lines = wrapWords(text, '  ', '      ', 60);
  for (const line of lines) assert.ok(columnsOf(line) <= 80, line);
  assert.equal(lines.join(' ').replace(/ +/g, ' ').trim(), text);
  for (const line of lines) {
    assert.doesNotMatch(line, /\[[^\]]*$/, `an interval split across lines: ${line}`);
    assert.doesNotMatch(line, /[+-]\d+\.\d( points)?$/, `a number apart from its interval: ${line}`);
  }
  const path = `/very/${'long/'.repeat(30)}report.html`;
  assert.deepEqual(wrapWords(`Report: ${path}`), ['Report:', path]);
  assert.equal(columnsOf('ρ=0.95 — n'), 10);
});

test('foldTable folds long cells within their column after commas, cutting nothing', () => {
  const measures = JSON.stringify(['cka', 'rbf_cka', 'neighbour_overlap', 'information_imbalance', 'intrinsic_dimension']);
  const table = foldTable(
    ['', 'quick', 'bigger-n'],
    [
      ['  similarity.measures', measures, measures],
      ['* seeds', '[0,1,2]', '[0,1]'],
    ],
    [1, 2],
    80,
  );
  const lines = table.split('\n');
  for (const line of lines) assert.ok(columnsOf(line) <= 80, line);
  assert.match(lines[1]!, /^ {2}similarity\.measures +\["cka",/);
  assert.ok(lines.length > 4, 'the measures took more than one line');
  for (const line of lines.slice(1, -1)) assert.match(line.trim(), /^(\S+ +)?\S*(,|\])( +\S*(,|\]))?$/, `folded after a comma: ${line}`);
  // Read column by column, every value is whole.
  const column = (start: number, end?: number): string =>
    lines
      .slice(1, -1)
      .map((l) => l.slice(start, end).trim())
      .join('');
  const second = lines[0]!.indexOf('quick');
  const third = lines[0]!.indexOf('bigger-n');
  assert.equal(column(second, third), measures);
  assert.equal(column(third), measures);
  assert.match(lines.at(-1)!, /^\* seeds +\[0,1,2\] +\[0,1\]$/);
});

test('run, report, runs (and runs show, ls, inspect) and recommend print every line within 100 columns by default', async () => {
  const dir = scratchDir('width');
  const f = await fixture();
  try {
    const store = join(dir, 'store');
    const sets = [
      '--set',
      'task.correlations=[0.95]',
      '--set',
      'task.target_sizes=[20,400]',
      '--set',
      'seeds=[0,1]',
      '--set',
      'transfer.modes=[defrost]',
    ];
    const env = { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' };
    const cli = (args: readonly string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const run = cli(['run', QUICK, '--store', store, '--jobs', '2', ...sets]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ {2}ρ=0\.95, n=400: /m, 'the answer was printed');
    assert.deepEqual(wideLines(run), [], 'run');
    const runs = cli(['runs', '--store', store]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^ID\s+NAME\s+CONFIG/);
    assert.deepEqual(wideLines(runs), [], 'runs');
    const shown = cli(['runs', 'show', 'last', 'last', '--store', store]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ {2}similarity\.measures +\["cka",/m);
    assert.deepEqual(wideLines(shown), [], 'runs show');
    // Looking at results keeps to the width too: ls folds coordinates, inspect folds its JSON.
    for (const args of [['ls'], ['inspect', 'last']]) {
      const r = cli([...args, '--store', store]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(wideLines(r), [], args.join(' '));
    }
    assert.match(cli(['inspect', 'last', '--store', store]).stdout, /^ {2}summary: +\{"runs":/m);

    const report = cli(['report', QUICK, '--store', store, ...sets]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /l\* at a glance/);
    assert.deepEqual(wideLines(report), [], 'report');
    const wide = cli(['report', QUICK, '--store', store, '--wide', ...sets]);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, /l\*=\d \{[\d,]+\} \d+\.\d% /, 'report --wide has every number of a cell');

    const rec = recommend(f, ['--data', f.images, '--folds', '2']);
    assert.equal(rec.code, 0, rec.stderr);
    const answer = rec.stdout.indexOf('Recommendation: ');
    assert.ok(answer >= 0 && answer < rec.stdout.indexOf('mean cross-validated accuracy by depth'), 'the verdict comes first');
    assert.deepEqual(wideLines(rec), [], 'recommend');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(f.dir, { recursive: true, force: true });
  }
});
