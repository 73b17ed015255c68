#!/usr/bin/env node
// The test suite (`make test`, after the build): every dist/test/*.test.js under `node --test`
// (only those: node --test on a directory would also run every helper module in it), in two
// phases.
//
// 1. Together, two files at a time (--test-concurrency=2): the files that share nothing but the
//    machine. Each makes its own temporary directories and stores (stage-rig.ts's scratchDir,
//    engine-helpers.ts's sandbox) and only reads the repository. One file alone leaves much of a
//    second core idle (starting node processes, waiting on a child), so two at a time shorten the
//    suite; more than two, on two cores, would only stretch the files' own timeouts.
// 2. Alone, one file at a time, after that: the files of ALONE, each for its reason. A new test
//    file belongs there when it writes inside the repository, uses the Slurm test cluster, or
//    asserts a wall-clock bound of a few seconds.
//
// Both phases always run; the exit status is 1 when either failed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastGlob from 'fast-glob';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join('dist', 'test');

/** Test files that must not run beside another, and why. */
const ALONE = {
  // Plants modules under stages/: a command of another file would find its sources changed since
  // the build and rebuild dist/ under the running tests.
  'layers.test.js': 'plants modules in the source tree',
  // The three share the machine's one Slurm cluster; slurm-run asserts that no defrost job is
  // left in the queue after an interrupt, and its cancel test waits for a job to start running.
  'slurm-executor.test.js': 'the Slurm cluster',
  'slurm-run.test.js': 'the Slurm cluster',
  'docs-commands.test.js': 'the Slurm cluster (the README runs a study through sbatch)',
  // Wall-clock bounds of a few seconds.
  'engine-crash.test.js': 'SIGINT stops a run within 5 s',
  'reliability-interrupt.test.js': 'SIGINT and SIGTERM stop a run within 5 s',
  'similarity-robustness.test.js': 'a huge sweep is refused within 5 s',
  'reliability-config-fuzz.test.js': 'each config loads within 3 s',
};

const missing = Object.keys(ALONE).filter((file) => !existsSync(join(root, testDir, file)));
if (missing.length > 0) {
  console.error(`scripts/test.mjs: ALONE names ${missing.join(', ')}, not in ${testDir}/ (renamed? update ALONE)`);
  process.exit(2);
}

const files = fastGlob.sync('*.test.js', { cwd: join(root, testDir) }).sort();
const together = files.filter((file) => !(file in ALONE));
const alone = files.filter((file) => file in ALONE);

/** `node --test` on `names` with `concurrency` files at a time; true when every test passed. */
function nodeTest(names, concurrency) {
  const args = ['--test', `--test-concurrency=${concurrency}`, ...names.map((file) => join(testDir, file))];
  console.log(`node ${args.slice(0, 2).join(' ')} <${names.length} files>`);
  return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status === 0;
}

const passedTogether = nodeTest(together, 2);
const passedAlone = nodeTest(alone, 1);
console.log(`test files two at a time: ${passedTogether ? 'passed' : 'FAILED'}; alone: ${passedAlone ? 'passed' : 'FAILED'}`);
process.exit(passedTogether && passedAlone ? 0 : 1);
