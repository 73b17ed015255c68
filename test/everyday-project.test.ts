/**
 * Project awareness (issue 17, point 4) and gc's confirmation on a terminal (point 2):
 * `--version` names the version and commit; the project root and its store are found from any
 * subdirectory, as git finds its repository; `gc` at a terminal deletes only after a `y`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, TOY_CONFIG, atTerminal, defrost, lastJson, publishedKeys, sandbox, type Sandbox } from './engine-helpers.js';
import { findProjectRoot, resolveConfigPath } from '../pipeline/project-root.js';

const SMALL = ['--set', 'numbers.values=[1,2]'];
let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

test('--version prints the version and the git commit of the checkout', () => {
  const r = defrost(box, ['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^defrost \d+\.\d+\.\d+ \((git [0-9a-f]{12}(-dirty)?|no git commit), \/\S+\)\n$/);
});

test('the project root and its store are found from a subdirectory', () => {
  const project = join(box.dir, 'project');
  mkdirSync(join(project, 'experiments', 'deep', 'er'), { recursive: true });
  copyFileSync(TOY_CONFIG, join(project, 'experiments', 'quick.yaml'));
  const noStore = { DEFROST_STORE: '' };
  const first = spawnSync(process.execPath, [BIN, 'run', 'experiments/quick.yaml', '--json', ...SMALL], {
    cwd: project,
    env: { ...box.env, ...noStore },
    encoding: 'utf8',
  });
  assert.equal(first.status, 0, first.stderr);
  assert.ok(existsSync(join(project, 'artifacts')), 'the default store is artifacts/ at the project root');
  // From experiments/: the config as the shell sees it, the store of the project root.
  const sub = spawnSync(process.execPath, [BIN, 'status', 'quick.yaml', '--json', ...SMALL], {
    cwd: join(project, 'experiments'),
    env: { ...box.env, ...noStore },
    encoding: 'utf8',
  });
  assert.equal(sub.status, 0, sub.stderr);
  const s = lastJson<{ total: number; cached: number }>({ code: sub.status, stdout: sub.stdout, stderr: sub.stderr });
  assert.equal(s.cached, s.total, 'from experiments/ every instance is cached in the root store');
  // From deeper down, a root-relative config path works too.
  const deep = join(project, 'experiments', 'deep', 'er');
  assert.equal(findProjectRoot(deep), project);
  assert.equal(resolveConfigPath('experiments/quick.yaml', deep), join(project, 'experiments', 'quick.yaml'));
  assert.equal(existsSync(join(project, 'experiments', 'artifacts')), false, 'no second store in the subdirectory');
});

test('gc on a terminal asks, and deletes only after y', () => {
  // A run recorded, then forgotten: its instances are candidates.
  assert.equal(defrost(box, ['run', TOY_CONFIG, '--json', ...SMALL]).code, 0);
  assert.equal(defrost(box, ['runs', 'forget', 'last', '--yes']).code, 0);
  const before = publishedKeys(box.store).length;
  assert.ok(before > 0);
  const run = (answer: string) => atTerminal(box, ['gc'], answer);
  const no = run('n');
  assert.equal(no.code, 0, no.stdout);
  assert.match(no.stdout, /Delete these \d+ instance\(s\) \([^)]+ of compute\)\? \[y\/N\]/);
  assert.equal(publishedKeys(box.store).length, before, 'an answer other than y deletes nothing');
  const yes = run('y');
  assert.equal(yes.code, 0, yes.stdout);
  assert.match(yes.stdout, /deleted \d+ instance\(s\)/);
  assert.equal(publishedKeys(box.store).length, 0);
});
