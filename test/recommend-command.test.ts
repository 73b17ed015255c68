/**
 * `defrost recommend` end to end on a tiny image folder and a source network built with plain
 * TensorFlow.js (its own layer names): the --json answer has exactly the documented keys, every
 * depth of the foreign network is transferred, adding a depth or a mode runs only the new
 * instances, and bad input exits 2 naming the file and the problem without touching the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { ANSWER_KEYS, executedByStage, fixture, recommend, VERSUS_KEYS } from './recommend-fixture.js';

test('recommend: the answer as documented; a new depth or mode runs only its folds', async () => {
  const f = await fixture();
  try {
    const first = recommend(f, ['--data', f.images, '--folds', '3', '--depths', '0,1,2', '--json']);
    assert.equal(first.code, 0, first.stderr);
    // Depths 1 and 2 train on cached block outputs (docs/performance.md#frozen-prefix-activations), one prefix each.
    assert.deepEqual(executedByStage(first.stderr), { 'import-data': 1, 'import-source': 1, prefix: 2, 'cv-train': 12, recommend: 1 });
    const lines = first.stdout.trim().split('\n');
    const answer = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
    assert.deepEqual(Object.keys(answer), ANSWER_KEYS);
    assert.equal(answer.folds, 3);
    assert.deepEqual(answer.eliminated, [], 'three folds are one round: nothing to race');
    // The paired gains over the defaults (3 blocks, depths 0-2 trained: l = L = 3 was not) and the verdict that reads them.
    const versus = answer.versus as Record<string, [number | null, number, number | null] | null>;
    assert.deepEqual(Object.keys(versus), VERSUS_KEYS);
    assert.equal(versus.freeze_all, null, 'l = 3 was not trained');
    const zero = versus.fine_tune_all;
    assert.ok(zero !== null && versus.scratch !== null);
    const verdict = String(answer.verdict);
    assert.match(verdict, /freezing all 3 not run, so not compared\.$/);
    if (answer.l_star !== 0 && zero[0] !== null && zero[2] !== null && zero[0] <= 0 && zero[2] >= 0)
      assert.match(verdict, /cannot be told apart from fine-tuning everything/);
    const counts = answer.stopped_by as Record<string, number>;
    assert.equal((counts.patience ?? 0) + (counts.budget ?? 0), 12, 'every fold run says what stopped it');
    // The terminal (stderr with --json) prints the verdict first.
    assert.ok(first.stderr.indexOf('Recommendation: ') < first.stderr.indexOf('keep the first'), 'the verdict comes first');
    assert.deepEqual(Object.keys(answer.depths as object), ['0', '1', '2']);
    const lStar = answer.l_star as number;
    assert.ok((answer.plausible as number[]).includes(lStar));
    const [low, mean, high] = answer.accuracy as number[];
    assert.ok(low <= mean && mean <= high && mean === (answer.depths as Record<string, number>)[String(lStar)]);
    assert.match(first.stderr, /keep the first \d block\(s\) frozen/);

    // Every depth of the foreign network (3 blocks): adding depth 3 trains only its 3 folds.
    const all = recommend(f, ['--data', f.images, '--folds', '3', '--depths', 'all', '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(executedByStage(all.stderr), { prefix: 1, 'cv-train': 3, recommend: 1 });
    assert.deepEqual(Object.keys((JSON.parse(all.stdout.trim().split('\n').pop() ?? '{}') as { depths: object }).depths), [
      '0',
      '1',
      '2',
      '3',
    ]);

    // Which protocol, and at which setting: the protocols at their default settings for 3 blocks
    // (surgical b = 1..3, lp-ft, llrd, gradual, l2sp: 7 runs a fold); the prefix depths are cached.
    const protocols = recommend(f, ['--data', f.images, '--folds', '3', '--depths', 'all', '--protocols', 'all', '--json']);
    assert.equal(protocols.code, 0, protocols.stderr);
    assert.deepEqual(executedByStage(protocols.stderr), { 'cv-train': 21, recommend: 1 });
    const protocol = (JSON.parse(protocols.stdout.trim().split('\n').pop() ?? '{}') as { protocol: Record<string, unknown> }).protocol;
    assert.deepEqual(Object.keys(protocol), ['mode', 'setting', 'symbol', 'accuracy', 'plausible', 'versus', 'by_protocol']);
    const byProtocol = protocol.by_protocol as { mode: string; setting: number; versus: Record<string, number[] | null> }[];
    assert.deepEqual(
      byProtocol.map((b) => b.mode),
      ['defrost', 'surgical', 'lp-ft', 'llrd', 'gradual', 'l2sp'],
    );
    assert.deepEqual(byProtocol[0].versus.best_prefix, [0, 0, 0], "defrost's best is the best prefix depth itself");
    assert.ok(
      (protocol.plausible as { mode: string }[]).some((p) => p.mode === protocol.mode),
      'the best pair is plausible',
    );
    assert.match(protocols.stderr, /Which protocol, and at which setting/);
    const refused = recommend(f, ['--data', f.images, '--protocols', 'sideways']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--protocols: got "sideways"/);

    const modes = recommend(f, ['--data', f.images, '--folds', '3', '--modes', 'defrost,reinit', '--json']);
    assert.equal(modes.code, 0, modes.stderr);
    assert.deepEqual(executedByStage(modes.stderr), { 'cv-train': 12, recommend: 1 });
    // reinit at depth 0 is the scratch network of the same fold, trained the same way.
    const details = JSON.parse(readFileSync(/Details: (.*)/.exec(modes.stderr)?.[1] ?? '', 'utf8')) as {
      by_mode: Record<string, Record<string, number[]>>;
    };
    assert.equal(details.by_mode.reinit['0'][1], details.by_mode.scratch.scratch[1]);

    const again = recommend(f, ['--data', f.images, '--folds', '3', '--modes', 'defrost,reinit', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(executedByStage(again.stderr), {});
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('recommend races depths over folds: survivors train every fold, --exhaustive trains only the folds the race skipped', async () => {
  const f = await fixture();
  try {
    const raced = recommend(f, ['--data', f.images, '--folds', '4', '--depths', '0,3', '--json']);
    assert.equal(raced.code, 0, raced.stderr);
    const answer = JSON.parse(raced.stdout.trim().split('\n').pop() ?? '{}') as {
      eliminated: { mode: string; depth: number | null; after_folds: number }[];
      plausible: number[];
      stopped_by: Record<string, number>;
    };
    assert.ok(Array.isArray(answer.eliminated));
    assert.match(raced.stderr, /early elimination, round 1\/2 \(3 folds\)/);
    // Round 1: 3 folds of depths 0, 3 and scratch; round 2: the fourth fold of the survivors.
    const stopped = answer.eliminated.length;
    assert.ok(answer.eliminated.every((e) => e.after_folds === 3));
    assert.ok(answer.eliminated.every((e) => e.depth === null || !answer.plausible.includes(e.depth)));
    assert.deepEqual(executedByStage(raced.stderr), {
      'import-data': 1,
      'import-source': 1,
      prefix: 3,
      'cv-train': 9 + (3 - stopped),
      recommend: 1,
    });
    assert.equal((answer.stopped_by.patience ?? 0) + (answer.stopped_by.budget ?? 0), 12 - stopped);

    const exhaustive = recommend(f, ['--data', f.images, '--folds', '4', '--depths', '0,3', '--exhaustive', '--json']);
    assert.equal(exhaustive.code, 0, exhaustive.stderr);
    assert.deepEqual(executedByStage(exhaustive.stderr), stopped === 0 ? { recommend: 1 } : { 'cv-train': stopped, recommend: 1 });
    assert.equal((JSON.parse(exhaustive.stdout.trim().split('\n').pop() ?? '{}') as { eliminated: unknown }).eliminated, null);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('recommend --fast: trains only the top-ranked depths plus scratch and says which', async () => {
  const f = await fixture();
  try {
    const fast = recommend(f, ['--data', f.images, '--folds', '3', '--fast', '--top', '2', '--json']);
    assert.equal(fast.code, 0, fast.stderr);
    // 4 depths ranked, 2 trained, 3 folds each, plus 3 scratch folds.
    const answer = JSON.parse(fast.stdout.trim().split('\n').pop() ?? '{}') as {
      depths: Record<string, number>;
      l_star: number;
      fast: { predictor: string; ranked: number[]; trained: number[]; confirmed: boolean; reason: string };
    };
    assert.equal(answer.fast.predictor, 'nearest_centroid');
    assert.deepEqual([...answer.fast.ranked].sort(), [0, 1, 2, 3]);
    assert.deepEqual(answer.fast.trained, answer.fast.ranked.slice(0, 2));
    assert.deepEqual(Object.keys(answer.depths).map(Number).sort(), [...answer.fast.trained].sort());
    // The deepest trained depth l reads block l's cached outputs, computed from block 1's up (one prefix per depth).
    const deepest = Math.max(...answer.fast.trained);
    assert.deepEqual(executedByStage(fast.stderr), {
      'import-data': 1,
      'import-source': 1,
      ...(deepest > 0 ? { prefix: deepest } : {}),
      'cv-train': 9,
      recommend: 1,
    });
    assert.ok(answer.fast.trained.includes(answer.l_star));
    assert.match(answer.fast.reason, answer.fast.confirmed ? /^confirmed/ : /^could not confirm/);
    assert.match(fast.stderr, new RegExp(`trained depths ${answer.fast.trained.join(', ')} and scratch`));

    const tooMany = recommend(f, ['--data', f.images, '--fast', '--top', '4']);
    assert.equal(tooMany.code, 2);
    assert.match(tooMany.stderr, /--top: got "4"; allowed: 1, 2 or 3/);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('recommend: bad input exits 2 naming the file and the problem, and never creates the store', async () => {
  const f = await fixture();
  try {
    const bad = (name: string): string => join(f.dir, name);
    mkdirSync(bad('broken/a'), { recursive: true });
    mkdirSync(bad('broken/b'), { recursive: true });
    writeFileSync(bad('broken/a/1.png'), 'garbage');
    writeFileSync(bad('broken/b/1.png'), 'garbage');
    mkdirSync(bad('empty/a'), { recursive: true });
    mkdirSync(bad('empty/b'), { recursive: true });
    await sharp(Buffer.alloc(64), { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toFile(bad('empty/a/1.png'));
    writeFileSync(bad('nan.csv'), 'label,x\n0,1\n1,nan\n');
    writeFileSync(bad('ragged.csv'), 'label,x,y\n0,1,2\n1,2\n');
    mkdirSync(bad('mismatch'));
    writeFileSync(bad('mismatch/features.npy'), encodeNpyArray([4, 64], new Float32Array(256)));
    writeFileSync(bad('mismatch/labels.npy'), encodeNpyArray([3], Int32Array.of(0, 1, 0)));
    mkdirSync(bad('flat'));
    writeFileSync(bad('flat/features.npy'), encodeNpyArray([6, 5], new Float32Array(30)));
    writeFileSync(bad('flat/labels.npy'), encodeNpyArray([6], Int32Array.of(0, 1, 0, 1, 0, 1)));
    const cases: [string[], RegExp][] = [
      [['--data', bad('nowhere')], /nowhere: no such file or directory/],
      [['--data', bad('broken')], /broken\/a\/1\.png: cannot decode the image/],
      [['--data', bad('empty')], /empty\/b: class "b" is empty/],
      [['--data', bad('nan.csv')], /nan\.csv: line 3: value NaN/],
      [['--data', bad('ragged.csv')], /ragged\.csv: line 3: 2 fields, but the header has 3/],
      [['--data', bad('mismatch')], /labels\.npy: 3 labels for 4 samples/],
      [['--data', bad('flat')], /samples of shape \[5\] do not fit the network .*model\.json, which takes inputs of shape \[8,8,1\]/],
      [['--data', f.images, '--depths', '0,4'], /--depths: got "4"; allowed: "all" or integers from 0 to 3/],
      [['--data', f.images, '--folds', '10'], /class "boots" has 9 sample\(s\); --folds 10 needs at least 10/],
    ];
    for (const [args, message] of cases) {
      const r = recommend(f, args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(f.store), false, `${args.join(' ')} created the store`);
    }
    const r = recommend(f, ['--data', f.images, '--model', bad('nothing/model.json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing\/model\.json: no such file/);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});
