/**
 * The layers of stages/ (docs/architecture.md, "Layout"): no import circle between folders, no
 * import that runs back up, and the eslint rule that `make test` runs fails on a planted upward
 * import and on a feature importing another feature's job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { defrostProject } from '../stages/project.js';

const root = defrostProject.codeRoot;

interface LayerReport {
  files: number;
  circles: string[][];
  violations: { from: string; to: string; why: string }[];
}

async function layerReport(): Promise<LayerReport> {
  const module = (await import(pathToFileURL(join(root, 'scripts', 'layers.mjs')).href)) as {
    layerReport(root: string): Promise<LayerReport>;
  };
  return module.layerReport(root);
}

test('stages/ has no import circle between folders and no import that breaks the layers', async () => {
  const report = await layerReport();
  assert.ok(report.files > 50, `read ${report.files} files`);
  assert.deepEqual(report.circles, []);
  assert.deepEqual(report.violations, []);
});

/** eslint on one planted file inside stages/ (removed afterwards); its exit status and output. */
function lintPlanted(relativePath: string, text: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(root, 'stages', 'lib', 'planted-'));
  const file = join(dir, relativePath);
  writeFileSync(file, text);
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'eslint'), ['--no-warn-ignored', file], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, output: '' };
  } catch (error) {
    const e = error as { stdout?: string };
    return { ok: false, output: e.stdout ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('eslint fails on a library importing a feature (an import that runs back up)', () => {
  const planted = lintPlanted(
    'upward.ts',
    "import { aggregateStage } from '../../report/aggregate.js';\nexport const name = aggregateStage.name;\n",
  );
  assert.equal(planted.ok, false);
  assert.match(planted.output, /may not import the higher layer report/);
});

test("eslint fails on a feature importing another feature's job", () => {
  // Planted under lib/ the upward rule fires first; a job import is checked from a feature folder.
  const dir = mkdtempSync(join(root, 'stages', 'recommend', 'planted-'));
  const file = join(dir, 'job-import.ts');
  writeFileSync(file, "import { runTransfer } from '../../training/training-job.js';\nexport const run = runTransfer;\n");
  try {
    assert.throws(
      () =>
        execFileSync(join(root, 'node_modules', '.bin', 'eslint'), ['--no-warn-ignored', file], {
          cwd: root,
          encoding: 'utf8',
          stdio: 'pipe',
        }),
      (e: { stdout?: string }) => /never its job/.test(e.stdout ?? ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eslint passes a library importing another library', () => {
  const planted = lintPlanted(
    'fine.ts',
    "import { Rng } from '../random.js';\nexport const make = (seed: number): Rng => new Rng(seed, 'x');\n",
  );
  assert.equal(planted.ok, true, planted.output);
});
