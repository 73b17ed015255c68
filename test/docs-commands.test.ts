/**
 * The documentation's commands run as written (issue 23). Every command line of the README's `sh`
 * blocks runs, in order, in a fresh project whose `experiments/` holds quick.yaml (and quick.yaml
 * again as default.yaml: "against quick.yaml"), with `defrost` put on PATH by the README's own
 * `npm link` (into a temporary npm prefix), `my-net/` and `my-images/` written for the
 * `recommend` lines; and every `yaml` block of docs/your-data.md runs with `defrost run`, from a
 * directory holding the data at the paths it names.
 *
 * Not run as written: `make run` and `make test` (the main study, the suite itself); `make setup`
 * runs as `make -n setup` (`make test` has just run it, and rebuilding the tree the tests run from
 * would cost minutes); `node scripts/example-your-data.mjs` trains for minutes as written and is
 * run on reduced sizes by test/recommend-example.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, QUICK } from './engine-helpers.js';
import { writeBlobsCsv, writeGreyImages, type GreyClass } from './file-data-fixtures.js';
import { FIXTURE_CLASSES } from './recommend-fixture.js';
import { ensureCluster, stopCluster } from './slurm-cluster.js';
import { foreignCnn, saveLayersModel } from './source-network-fixture.js';
import { RESULTS } from '../stages/lib/tables/report-tables.js';
import { scratchDir } from './stage-rig.js';

/** The fenced blocks of a markdown file in `language`, in order. */
function blocks(file: string, language: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
}

/** The commands of a shell block: one per line, without its trailing `# comment`. */
function commands(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const NOT_RUN: Record<string, string> = {
  'make run': 'the main study',
  'make test': 'the test suite itself',
  'node scripts/example-your-data.mjs': 'minutes of training as written; test/recommend-example.test.ts runs it reduced',
};

/** The environment of a user's shell: no test store, no project override. */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1', ...extra };
  delete env.DEFROST_STORE;
  delete env.DEFROST_PROJECT_MODULE;
  return env;
}

test('every command of the README runs as written against quick.yaml', async () => {
  const dir = scratchDir('readme');
  const cluster = ensureCluster();
  try {
    const project = join(dir, 'project');
    mkdirSync(join(project, 'experiments'), { recursive: true });
    copyFileSync(QUICK, join(project, 'experiments', 'quick.yaml'));
    copyFileSync(QUICK, join(project, 'experiments', 'default.yaml'));
    // What the `recommend` lines name: a network taking 8x8 grey images, and a folder of them.
    await saveLayersModel(foreignCnn(), join(project, 'my-net'));
    await writeGreyImages(join(project, 'my-images'), FIXTURE_CLASSES, 10);
    const prefix = join(dir, 'npm-prefix');
    const env = userEnv({
      NPM_CONFIG_PREFIX: prefix,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
    });
    const lines = blocks('README.md', 'sh').flatMap(commands);
    assert.ok(lines.length >= 15, `README sh blocks hold ${lines.length} commands`);
    const outputs = new Map<string, string>();
    for (const line of lines) {
      if (line in NOT_RUN) continue;
      // Set-up commands run in the clone, as the README says; the rest in the user's project.
      const inClone = line.startsWith('make ') || line.startsWith('npm ');
      const script = line === 'make setup' ? 'make -n setup' : line;
      const r = spawnSync('bash', ['-c', script], { cwd: inClone ? ROOT : project, env, encoding: 'utf8', timeout: 600_000 });
      assert.equal(r.status, 0, `\`${line}\` exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, line);
      outputs.set(line, r.stdout);
    }
    const output = (start: string): string => [...outputs].find(([line]) => line.startsWith(start))?.[1] ?? '';
    assert.match(output('defrost --version'), /^defrost \d+\.\d+\.\d+ /);
    assert.match(output('defrost inspect bigger-n'), /^aggregate [0-9a-f]{16}/);
    assert.match(
      output("defrost inspect 'transfer["),
      /^transfer [0-9a-f]{16}\s+transfer\[correlation=0\.8,n=100,mode=defrost,depth=2,seed=0\]/,
    );
    assert.match(output('defrost runs diff'), /^params:\n {2}task\.target_sizes: \[20,100,400\] -> \[20,100,400,200\]$/m);
    assert.match(
      output('defrost recommend --model my-net/model.json --data my-images/ --json').trim().split('\n').pop() ?? '',
      /^\{"l_star":\d/,
    );
    // The exported header is the declared table's columns, in order (report-tables.ts).
    assert.equal(readFileSync(join(project, 'results.csv'), 'utf8').split('\n')[0], Object.keys(RESULTS.columns).join(','));
    assert.ok(existsSync(join(project, 'artifacts', '.run-records')), 'recommend and run share the project store');
  } finally {
    stopCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Five classes of grey images, c0..c4, for the `{train, test}` pairs of the docs' configs. */
const FIVE: readonly GreyClass[] = [0, 1, 2, 3, 4].map((c) => ({ name: `c${c}`, level: 30 + 50 * c, stripe: c }));

test('every config of docs/your-data.md runs as written on data at the paths it names', async () => {
  const dir = scratchDir('your-data');
  try {
    mkdirSync(join(dir, 'data'));
    writeBlobsCsv(join(dir, 'data', 'blobs.csv'), 150);
    await writeGreyImages(join(dir, 'data', 'train'), FIVE, 100);
    await writeGreyImages(join(dir, 'data', 'test'), FIVE, 30, 1000);
    await saveLayersModel(foreignCnn([8, 8, 1], 3), join(dir, 'nets', 'my-cnn'));
    const configs = blocks('docs/your-data.md', 'yaml');
    assert.equal(configs.length, 3, 'the study on a CSV, the {train, test} pair, the source_model study');
    configs.forEach((config, i) => {
      const file = join(dir, `config-${i}.yaml`);
      writeFileSync(file, config);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'defrost.js'), 'run', file, '--json'], {
        cwd: dir,
        env: userEnv({}),
        encoding: 'utf8',
        timeout: 600_000,
      });
      assert.equal(r.status, 0, `docs/your-data.md yaml block ${i + 1}:\n${config}\n${r.stderr}`);
      const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { failed: number; executed: number };
      assert.equal(summary.failed, 0);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
