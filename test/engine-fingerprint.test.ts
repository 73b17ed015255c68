/**
 * Code fingerprints come from the real module graph (docs/architecture.md): in a copy of the
 * sources, editing any file of a stage's import closure — `stages/config/schema.ts` for `similarity`
 * included, and the native sources a `@fingerprint` tag names — changes that stage's fingerprint,
 * and only the fingerprints of the stages whose closure holds the file; a file outside every closure changes none; a new version of an npm
 * package changes the stages whose closure imports it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { clearFingerprintCache, fingerprintStage, FingerprintError } from '../pipeline/fingerprint.js';
import { parseImports } from '../pipeline/module-graph.js';
import { defrostProject } from '../stages/project.js';
import { ROOT } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';

const stages = Object.values(defrostProject.stages);
const dir = scratchDir('fingerprint');
after(() => import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true })));

/** A copy of the sources, with a node_modules holding only the package.json of each package used. */
function copySources(): string {
  const root = join(dir, `code-${Math.random().toString(36).slice(2)}`);
  for (const d of ['pipeline', 'stages']) cpSync(join(ROOT, d), join(root, d), { recursive: true });
  cpSync(join(ROOT, 'native'), join(root, 'native'), { recursive: true, filter: (src) => !src.includes(join('native', 'build')) });
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  for (const stage of stages)
    for (const entry of fingerprintStage(ROOT, stage).files.filter((f) => f.startsWith('npm:'))) {
      const name = entry.slice(4, entry.lastIndexOf('@'));
      mkdirSync(join(root, 'node_modules', name), { recursive: true });
      cpSync(join(ROOT, 'node_modules', name, 'package.json'), join(root, 'node_modules', name, 'package.json'));
    }
  return root;
}

function fingerprints(root: string): Map<string, string> {
  clearFingerprintCache();
  return new Map(stages.map((s) => [s.name, fingerprintStage(root, s).fingerprint]));
}

test('the closure follows static, dynamic and worker imports, and skips type-only ones', () => {
  const parsed = parseImports(
    [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C } from './c.js';",
      "export { d } from './d.js';",
      "export type { E } from './e.js';",
      "import './f.js';",
      "const g = await import('./g.js');",
      "type H = typeof import('./h.js');",
      "const w = new URL('./worker.js', import.meta.url);",
      'const x = await import(somewhere);',
    ].join('\n'),
    'probe.ts',
  );
  assert.deepEqual(parsed.imports, ['./a.js', './d.js', './f.js', './g.js', './worker.js']);
  assert.deepEqual(parsed.opaque, [10]);
});

test('similarity: its closure holds the config schema and what it imports, not the config checks that read files', () => {
  const files = fingerprintStage(ROOT, defrostProject.stages.similarity).files;
  for (const f of [
    'stages/similarity/similarity.ts',
    'stages/similarity/similarity-job.ts',
    'stages/config/schema.ts',
    'stages/lib/random.ts',
  ])
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  for (const f of ['stages/data/config-checks.ts', 'stages/data/source-model-issues.ts'])
    assert.ok(!files.includes(f), `${f} is not in the similarity closure`);
  assert.ok(files.includes('stages/lib/measures/gram-worker.ts'), 'the worker script loaded by new URL(...)');
  assert.ok(files.some((f) => f.startsWith('npm:apache-arrow@')));
  const training = fingerprintStage(ROOT, defrostProject.stages['train-source']).files;
  assert.ok(training.includes('native/src/trainer.cc'), 'the native training step, named by @fingerprint in kernels/register.ts');
  assert.ok(!fingerprintStage(ROOT, defrostProject.stages['generate-data']).files.includes('native/src/trainer.cc'));
});

test('editing any file of a closure changes exactly the stages whose closure holds it', () => {
  const root = copySources();
  const base = fingerprints(root);
  const closures = new Map(stages.map((s) => [s.name, new Set(fingerprintStage(root, s).files)]));
  const union = [...new Set([...closures.values()].flatMap((c) => [...c]))].filter((f) => !f.startsWith('npm:')).sort();
  assert.ok(union.length > 30, `closures hold ${union.length} files`);
  for (const file of union) {
    const path = join(root, file);
    const original = readFileSync(path);
    appendFileSync(path, '\n// an edit\n');
    try {
      const now = fingerprints(root);
      for (const stage of stages) {
        const inClosure = closures.get(stage.name)?.has(file) ?? false;
        assert.equal(now.get(stage.name) !== base.get(stage.name), inClosure, `${stage.name} after editing ${file}`);
      }
    } finally {
      writeFileSync(path, original);
    }
  }
  assert.deepEqual(fingerprints(root), base, 'restored sources, restored fingerprints');

  // Files outside every closure: the engine's scheduler, a command, the report's text table.
  for (const file of ['pipeline/scheduler.ts', 'stages/similarity/compare-command.ts', 'stages/plan.ts', 'stages/lib/models/backend.ts']) {
    assert.ok(!union.includes(file), `${file} is outside every closure`);
    appendFileSync(join(root, file), '\n// an edit\n');
  }
  assert.deepEqual(fingerprints(root), base, 'edits outside every closure change no fingerprint');

  // A package's version: vega is imported only by aggregate's closure (the report), zod by all.
  const bump = (name: string): void => {
    const manifest = join(root, 'node_modules', name, 'package.json');
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), version: '999.0.0' }));
  };
  bump('vega');
  const afterVega = fingerprints(root);
  for (const stage of stages) assert.equal(afterVega.get(stage.name) !== base.get(stage.name), stage.name === 'aggregate', stage.name);
  bump('zod');
  const afterZod = fingerprints(root);
  for (const stage of stages) assert.notEqual(afterZod.get(stage.name), afterVega.get(stage.name), stage.name);
});

test('an import that resolves to no file is a FingerprintError naming it', () => {
  const root = copySources();
  appendFileSync(join(root, 'stages', 'similarity', 'similarity-job.ts'), "\nexport const later = () => import('./no-such-module.js');\n");
  clearFingerprintCache();
  assert.throws(
    () => fingerprintStage(root, defrostProject.stages.similarity),
    (e: unknown) => e instanceof FingerprintError && /similarity.*no-such-module\.js/.test(e.message),
  );
});
