/**
 * The code that runs is the code fingerprinted (docs/architecture.md): in a copy of the
 * repository, editing a stage's source without rebuilding makes `defrost run` either exit 2
 * naming the stale file and the command to run (DEFROST_REBUILD=0), or rebuild dist/ first and
 * then run the new code; never a run of the old compiled code under the new fingerprint. The
 * rebuild is incremental (tsc's record in dist/), so the cases it could get wrong are here too: a
 * type error in a module that was not edited, a build after a failed one, a removed source, a
 * compiled module deleted by hand.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** One copy for the tests below, which run in order. */
const root = copyRepository();
const run = ['run', 'experiments/quick.yaml', '--dry-run', '--json'];

function defrost(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(root, 'bin', 'defrost.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_STORE: join(dir, 'store'), ...env },
    timeout: 300_000,
  });
}

const compiled = (module: string): string => readFileSync(join(root, 'dist', module), 'utf8');

test('a stage edited without rebuilding: exit 2 naming it, or a rebuild before the run', () => {
  const fresh = defrost(run);
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.doesNotMatch(fresh.stderr, /rebuild/);

  const source = join(root, 'stages', 'similarity', 'similarity.ts');
  writeFileSync(source, readFileSync(source, 'utf8').replace("name: 'similarity',", "name: 'similarity', // edited\n"));
  const before = compiled('stages/similarity/similarity.js');
  // A compiled module deleted by hand: tsc's record still says it is up to date.
  rmSync(join(root, 'dist', 'pipeline', 'hash.js'));

  const refused = defrost(run, { DEFROST_REBUILD: '0' });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /dist\/ is older than its sources \(pipeline\/hash\.ts, stages\/similarity\/similarity\.ts\); run `make build`/,
  );
  assert.equal(compiled('stages/similarity/similarity.js'), before, 'nothing ran, nothing was rebuilt');

  const rebuilt = defrost(run);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /older than its sources \(pipeline\/hash\.ts, stages\/similarity\/similarity\.ts\); rebuilding/);
  assert.match(compiled('stages/similarity/similarity.js'), /\/\/ edited/, 'dist/ now holds the edited stage');
  assert.ok(existsSync(join(root, 'dist', 'pipeline', 'hash.js')), 'and the deleted module');

  const again = defrost(run);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /rebuild/, 'the new stamp matches the sources');
});

test('an edit that breaks a module it did not touch fails the rebuild; the next good edit is built', () => {
  // Any command rebuilds first; `--help` does nothing else.
  const help = ['--help'];
  mkdirSync(join(root, 'stages', 'planted'));
  const planted = join(root, 'stages', 'planted', 'value.ts');
  const user = join(root, 'stages', 'planted', 'user.ts');
  writeFileSync(planted, 'export const planted = 1;\n');
  writeFileSync(user, "import { planted } from './value.js';\nexport const twice: number = planted * 2;\n");
  const untouched = statSync(join(root, 'dist', 'pipeline', 'store.js')).mtimeMs;
  const added = defrost(help);
  assert.equal(added.status, 0, added.stderr);
  assert.match(compiled('stages/planted/user.js'), /planted \* 2/);
  assert.equal(statSync(join(root, 'dist', 'pipeline', 'store.js')).mtimeMs, untouched, 'the rebuild is incremental');

  // value.ts itself is fine; only the module importing it stops type-checking.
  writeFileSync(planted, "export const planted = 'one';\n");
  const broken = defrost(help);
  assert.equal(broken.status, 2, broken.stderr);
  assert.match(
    broken.stderr,
    /the rebuild failed \(dist\/ is older than stages\/planted\/value\.ts\):\nstages\/planted\/user\.ts\(2,\d+\): error TS/,
  );
  assert.match(compiled('stages/planted/value.js'), /planted = 1;/, 'nothing was emitted');
  const stillStale = defrost(help, { DEFROST_REBUILD: '0' });
  assert.equal(stillStale.status, 2, 'the stamp still describes the last good build');
  assert.match(stillStale.stderr, /older than its sources \(stages\/planted\/value\.ts\)/);

  writeFileSync(user, "import { planted } from './value.js';\nexport const twice: string = planted + planted;\n");
  const fixed = defrost(help);
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.match(compiled('stages/planted/value.js'), /planted = 'one';/, 'the module of the failed build is emitted now');
  assert.match(compiled('stages/planted/user.js'), /planted \+ planted/);

  rmSync(join(root, 'stages', 'planted'), { recursive: true });
  const removed = defrost(help);
  assert.equal(removed.status, 0, removed.stderr);
  assert.ok(!existsSync(join(root, 'dist', 'stages', 'planted')), 'the outputs of removed sources are removed, and their folder');
});
