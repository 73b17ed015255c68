/**
 * Messages (issue 17, point 6): a `--set` without `=` or split by the shell says how to write
 * it; a YAML syntax error names the line that is wrong, with its text; an unknown key suggests
 * the nearest known one. All exit 2 before anything runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { QUICK, defrost, sandbox, type Sandbox } from './engine-helpers.js';
import { nearestName } from '../pipeline/nearest-name.js';

let box: Sandbox;
before(() => {
  // defrost's own project: these are its config's messages (nothing runs: every command exits 2 or is `status`).
  box = sandbox({ DEFROST_PROJECT_MODULE: undefined });
});
after(() => box.cleanup());

test('--set without = and with an unquoted space say how to write them', () => {
  const noEq = defrost(box, ['status', QUICK, '--set', 'train.epochs', '5']);
  assert.equal(noEq.code, 2);
  assert.match(noEq.stderr, /--set train\.epochs 5: write key and value as one argument joined by "=": --set train\.epochs=5/);
  assert.doesNotMatch(noEq.stderr, /too many arguments/);
  const split = defrost(box, ['status', QUICK, '--set', 'task.target_sizes=[20,', '100]']);
  assert.equal(split.code, 2);
  assert.match(split.stderr, /quote the whole assignment: --set 'task\.target_sizes=\[20, 100\]'/);
  const alone = defrost(box, ['run', QUICK, '--set', 'seeds']);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--set seeds: expected key\.path=value/);
  const fine = defrost(box, ['status', QUICK, '--set', 'task.target_sizes=[20, 100]', '--json']);
  assert.equal(fine.code, 0, fine.stderr);
});

test('a YAML syntax error names the wrong line with its text', () => {
  const unclosed = join(box.dir, 'unclosed.yaml');
  writeFileSync(unclosed, 'seed: 0\ntask:\n  kind: synthetic\n  correlations: [1, 0.8\n  source_size: 100\n');
  const r = defrost(box, ['status', unclosed]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not valid YAML: line 4: a \[ or \{ opened here is never closed/);
  assert.match(r.stderr, /^> 4 \| {3}correlations: \[1, 0\.8$/m);
  const indented = join(box.dir, 'indented.yaml');
  writeFileSync(indented, 'seed: 0\ntask:\n  kind: synthetic\n  latent_dim: 8\n   input_dim: 4\n');
  const i = defrost(box, ['status', indented]);
  assert.equal(i.code, 2);
  assert.match(i.stderr, /line 5: indented more than line 4/);
  assert.match(i.stderr, /^> 5 \| {4}input_dim: 4$/m);
  const tab = join(box.dir, 'other.yaml');
  writeFileSync(tab, 'seed: 0\ntask: {kind: synthetic\n');
  const t = defrost(box, ['status', tab]);
  assert.equal(t.code, 2);
  assert.match(t.stderr, /is not valid YAML: line \d+: /);
  assert.match(t.stderr, /^> +\d+ \| /m);
});

test('an unknown key suggests the nearest known key', () => {
  const typo = defrost(box, ['status', QUICK, '--set', 'train.epoch=3', '--set', 'model.activaton=relu']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /train\.epoch: got 3; allowed: no such key; did you mean train\.epochs\?/);
  assert.match(typo.stderr, /model\.activaton: .*did you mean model\.activation\?/);
  assert.equal(nearestName('zzzzzz', ['epochs', 'seeds']), null, 'no suggestion when nothing is close');
  assert.equal(nearestName('lerning_rate', ['learning_rate', 'momentum']), 'learning_rate');
});

test('every usage error of run, status, recommend and --force suggests the nearest valid name', () => {
  const quickTypo = join(dirname(QUICK), 'quick.yml');
  const cases: [string[], RegExp][] = [
    [
      ['run', QUICK, '--force', 'train-sorce'],
      /--force: got "train-sorce"; did you mean train-source\?; allowed: generate-data, train-source/,
    ],
    [['run', quickTypo], /cannot read config .*quick\.yml: no such file; did you mean .*experiments\/quick\.yaml\?/],
    [
      ['run', QUICK, '--set', 'train.learning_rat=0.1'],
      /train\.learning_rat: got 0\.1; allowed: no such key; did you mean train\.learning_rate\?/,
    ],
    [['run', QUICK, '--executor', 'slrum'], /--executor: got "slrum"; did you mean slurm\?; allowed: local, slurm/],
    [['run', QUICK, '--backend', 'wasmblas'], /--backend: got "wasmblas"; did you mean wasm-blas\?/],
    [['run', QUICK, '--jbos', '2'], /unknown option '--jbos'\n\(Did you mean --jobs\?\)/],
    [['stauts', QUICK], /unknown command 'stauts'\n\(Did you mean status\?\)/],
    [['status', QUICK, '--set', 'trian.epochs=2'], /trian: .*did you mean train\?/],
    [['status', quickTypo], /no such file; did you mean .*quick\.yaml\?/],
    [
      ['recommend', '--model', 'net/model.json', '--data', 'd', '--set', 'train.learning_rat=0.1'],
      /invalid recommend --set train\.learning_rat=0\.1:\n {2}train\.learning_rat: got 0\.1; allowed: no such key; did you mean train\.learning_rate\?; known keys of train: /,
    ],
    [
      ['recommend', '--model', 'net/model.json', '--data', 'd', '--set', 'trian.epochs=1'],
      /recommend takes only train\.\* keys .*; did you mean train\.epochs\?/,
    ],
    [['recommend', '--model', 'net/model.json', '--data', 'd', '--modes', 'reinti'], /--modes: got "reinti"; did you mean reinit\?/],
    [
      ['recommend', '--model', 'net/model.json', '--data', 'd', '--backend', 'wasmblas'],
      /--backend: got "wasmblas"; did you mean wasm-blas\?/,
    ],
    [['recommend', '--model', 'net/model.json', '--dat', 'd'], /unknown option '--dat'\n\(Did you mean --data\?\)/],
    [['runs', 'show', 'nosuchrun'], /no runs are recorded in this store yet/],
  ];
  for (const [args, message] of cases) {
    const r = defrost(box, args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--help: number defaults as numbers, required options marked, examples that work; -v is --version', () => {
  const help = defrost(box, ['recommend', '--help']).stdout;
  assert.match(help, /--folds <k> +cross-validation folds \(stratified\) \(default: 5\)/);
  assert.doesNotMatch(help, /default: "\d+"/, 'no number default quoted');
  assert.doesNotMatch(help, /default: \[\]/);
  assert.match(help, /--model <file> +the pre-trained network:[^-]*\(required\)/);
  // The --set example is a key recommend accepts.
  const example = /e\.g\. (train\.[a-z_]+=\S+)/.exec(help.replace(/\s+/g, ' '))?.[1];
  assert.ok(example !== undefined, help);
  const tried = defrost(box, ['recommend', '--model', join(box.dir, 'none', 'model.json'), '--data', 'd', '--set', example]);
  assert.match(tried.stderr, /none\/model\.json: no such file/, `the example ${example} passes the --set checks`);
  assert.match(defrost(box, ['run', '--help']).stdout, /--retries <n> [^-]*\(default: 0\)/);
  const version = defrost(box, ['-v']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^defrost \d+\.\d+\.\d+ \(/);
  assert.equal(defrost(box, ['--version']).stdout, version.stdout);
});
