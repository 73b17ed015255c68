#!/usr/bin/env node
// The test suite (`make test`, after the build): every dist/test/*.test.js under `node --test`
// (only those: node --test on a directory would also run every helper module in it), in two
// phases.
//
// 1. Two at a time: the files that share nothing but the machine, each making its own temporary
//    directories and stores (stage-rig.ts's scratchDir, engine-helpers.ts's sandbox) and only
//    reading the repository. One file alone leaves much of a second core idle (starting node
//    processes, waiting on a child), so two at a time shorten the suite; more than two, on two
//    cores, would only stretch the files' own timeouts. The files of SLURM share the machine's one
//    Slurm test cluster: they run one after another, as one unit of this phase, started first
//    because it is the longest.
// 2. Alone, one at a time, after that: the files of ALONE, each for its reason.
//
// A new test file belongs in SLURM when it uses the Slurm cluster, in ALONE when it writes inside
// the repository or asserts a wall-clock bound of a few seconds. Each unit's TAP output is printed
// in one piece when it ends; every unit runs, and the exit status is 1 when any test failed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastGlob from 'fast-glob';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join('dist', 'test');

/** Use the Slurm cluster: slurm-run asserts that no defrost job is left in its queue after an interrupt. */
const SLURM = ['slurm-executor.test.js', 'slurm-run.test.js', 'docs-commands.test.js'];

/** Must not run beside another file, and why. */
const ALONE = {
  // A command of another file would find the sources changed since the build and rebuild dist/
  // under the running tests.
  'layers.test.js': 'plants modules in the source tree',
  'engine-crash.test.js': 'SIGINT stops a run within 5 s',
  'reliability-interrupt.test.js': 'SIGINT and SIGTERM stop a run within 5 s',
  'similarity-robustness.test.js': 'a huge sweep is refused within 5 s',
  'reliability-config-fuzz.test.js': 'each config loads within 3 s',
};

const missing = [...SLURM, ...Object.keys(ALONE)].filter((file) => !existsSync(join(root, testDir, file)));
if (missing.length > 0) {
  console.error(`scripts/test.mjs names ${missing.join(', ')}, not in ${testDir}/ (renamed? update SLURM or ALONE)`);
  process.exit(2);
}

const files = fastGlob.sync('*.test.js', { cwd: join(root, testDir) }).sort();
const apart = files.filter((file) => !SLURM.includes(file) && !(file in ALONE));

let passed = 0;
let failed = 0;
const failedUnits = [];

/** `node --test` on the files of one unit, one at a time; its output printed when it ends. */
function runUnit(unit, why = '') {
  return new Promise((resolve) => {
    const args = ['--test', '--test-concurrency=1', '--test-reporter=tap', ...unit.map((file) => join(testDir, file))];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('close', (code) => {
      const output = Buffer.concat(chunks).toString('utf8');
      process.stdout.write(`# ${unit.join(' ')}${why}\n${output}`);
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
      passed += count('pass');
      failed += count('fail');
      if (code !== 0) failedUnits.push(unit.join(' '));
      resolve();
    });
  });
}

/** The units two at a time: two lanes, each taking the next unit when its own ends. */
async function twoAtATime(units) {
  const queue = [...units];
  const lane = async () => {
    for (let unit = queue.shift(); unit; unit = queue.shift()) await runUnit(unit);
  };
  await Promise.all([lane(), lane()]);
}

await twoAtATime([SLURM, ...apart.map((file) => [file])]);
for (const file of files.filter((name) => name in ALONE)) await runUnit([file], ` (alone: ${ALONE[file]})`);
console.log(`# ${files.length} test files: ${passed} tests passed, ${failed} failed`);
if (failedUnits.length > 0) console.log(`# FAILED: ${failedUnits.join('; ')}`);
process.exit(failedUnits.length > 0 ? 1 : 0);
