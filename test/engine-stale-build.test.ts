/**
 * The code that runs is the code fingerprinted (docs/architecture.md): in a copy of the
 * repository, editing a stage's source without rebuilding makes `defrost run` either exit 2
 * naming the stale file and the command to run (DEFROST_REBUILD=0), or rebuild dist/ first and
 * then run the new code; never a run of the old compiled code under the new fingerprint.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('stale-build');
after(() => rmSync(dir, { recursive: true, force: true }));

function copyRepository(): string {
  const root = join(dir, 'repo');
  for (const d of ['bin', 'scripts', 'pipeline', 'stages', 'test', 'bench', 'experiments', 'dist'])
    cpSync(join(ROOT, d), join(root, d), { recursive: true, filter: (src) => !src.includes(`${join('dist', 'test', 'out')}`) });
  cpSync(join(ROOT, 'native'), join(root, 'native'), { recursive: true, filter: (src) => !src.includes(join('native', 'build')) });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(root, f));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return root;
}

function defrost(root: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(root, 'bin', 'defrost.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_STORE: join(dir, 'store'), ...env },
    timeout: 300_000,
  });
}

test('a stage edited without rebuilding: exit 2 naming it, or a rebuild before the run', () => {
  const root = copyRepository();
  const args = ['run', 'experiments/quick.yaml', '--dry-run', '--json'];
  const fresh = defrost(root, args);
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.doesNotMatch(fresh.stderr, /rebuild/);

  const source = join(root, 'stages', 'similarity', 'similarity.ts');
  writeFileSync(source, readFileSync(source, 'utf8').replace("name: 'similarity',", "name: 'similarity', // edited\n"));
  const compiled = join(root, 'dist', 'stages', 'similarity', 'similarity.js');
  const before = readFileSync(compiled, 'utf8');

  const refused = defrost(root, args, { DEFROST_REBUILD: '0' });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /dist\/ is older than its sources \(stages\/similarity\/similarity\.ts\); run `make build`/);
  assert.equal(readFileSync(compiled, 'utf8'), before, 'nothing ran, nothing was rebuilt');

  const rebuilt = defrost(root, args);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /older than its sources \(stages\/similarity\/similarity\.ts\); rebuilding/);
  assert.match(readFileSync(compiled, 'utf8'), /\/\/ edited/, 'dist/ now holds the edited stage');

  const again = defrost(root, args);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /rebuild/, 'the new stamp matches the sources');
});
