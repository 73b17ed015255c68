/**
 * Code fingerprints follow meaning (docs/architecture.md, "Code fingerprints"), checked on a copy
 * of the project's sources over every stage: code added to any file a stage loads changes exactly
 * the stages that load it; comments, types, unused declarations, help strings (`.describe`),
 * stage descriptions, error messages and the config checks' messages change no stage; an edit
 * of the training loop re-keys exactly the training instances and what depends on them; a new
 * version of an npm package changes the stages that import it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../pipeline/config-loader.js';
import { buildDag } from '../pipeline/dag.js';
import { clearFingerprintCache, fingerprintStage, FingerprintError } from '../pipeline/fingerprint.js';
import { defrostProject } from '../stages/project.js';
import { QUICK, ROOT } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';

const stages = Object.values(defrostProject.stages);
const dir = scratchDir('fingerprint');
after(() => rmSync(dir, { recursive: true, force: true }));

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

/** Every source file some stage loads (the union of the closures). */
function closureFiles(root: string): string[] {
  clearFingerprintCache();
  const all = stages.flatMap((s) => fingerprintStage(root, s).files);
  return [...new Set(all)].filter((f) => /\.ts$/.test(f)).sort();
}

/** Applies `edit` to every file of `files`; returns how many places it changed. */
function editAll(root: string, files: readonly string[], pattern: RegExp, replacement: string): number {
  let count = 0;
  for (const file of files) {
    const path = join(root, file);
    const text = readFileSync(path, 'utf8');
    const edited = text.replace(pattern, (...match: string[]) => {
      count += 1;
      return replacement.replace(/\$(\d)/g, (_, i: string) => match[Number(i)]);
    });
    if (edited !== text) writeFileSync(path, edited);
  }
  return count;
}

/** The stages that read `names`' outputs, directly or not, by their declared inputs. */
function downstreamOf(names: readonly string[]): Set<string> {
  const out = new Set(names);
  for (let grew = true; grew;) {
    grew = false;
    for (const stage of stages)
      if (!out.has(stage.name) && Object.values(stage.inputs).some((i) => i.stages.some((s) => out.has(s)))) {
        out.add(stage.name);
        grew = true;
      }
  }
  return out;
}

test('similarity: its closure holds the config schema and what it imports, not the config checks that read files', () => {
  const files = fingerprintStage(ROOT, defrostProject.stages.similarity).files;
  for (const f of [
    'stages/similarity/similarity.ts',
    'stages/similarity/similarity-job.ts',
    'stages/config/schema.ts',
    'stages/lib/random.ts',
  ])
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  for (const f of ['stages/data/config-checks.ts', 'stages/data/source-model-issues.ts', 'stages/config-docs.ts'])
    assert.ok(!files.includes(f), `${f} is not in the similarity closure`);
  assert.ok(files.includes('stages/lib/measures/gram-worker.ts'), 'the worker script loaded by new URL(...)');
  assert.ok(files.some((f) => f.startsWith('npm:apache-arrow@')));
  const training = fingerprintStage(ROOT, defrostProject.stages['train-source']).files;
  assert.ok(training.includes('native/src/trainer.cc'), 'the native training step, named by @fingerprint in kernels/register.ts');
  assert.ok(training.includes('stages/lib/kernels/matmul.ts'), 'the kernels the backend installs, named by the same tag');
  assert.ok(!fingerprintStage(ROOT, defrostProject.stages['generate-data']).files.includes('native/src/trainer.cc'));
});

test('code added to any file a stage loads changes exactly the stages that load it; a comment changes none', () => {
  const root = copySources();
  const base = fingerprints(root);
  clearFingerprintCache();
  const closures = new Map(stages.map((s) => [s.name, new Set(fingerprintStage(root, s).files)]));
  const union = closureFiles(root);
  assert.ok(union.length > 30, `closures hold ${union.length} files`);
  for (const file of union) {
    const path = join(root, file);
    const original = readFileSync(path);
    appendFileSync(path, "\nconsole.log('an edit');\n");
    try {
      const now = fingerprints(root);
      for (const stage of stages) {
        const inClosure = closures.get(stage.name)?.has(file) ?? false;
        assert.equal(now.get(stage.name) !== base.get(stage.name), inClosure, `${stage.name} after adding code to ${file}`);
      }
    } finally {
      writeFileSync(path, original);
    }
  }
  assert.deepEqual(fingerprints(root), base, 'restored sources, restored fingerprints');

  // Comments, layout, types and declarations nothing uses: in every file at once, no change.
  for (const file of union)
    appendFileSync(
      join(root, file),
      '\n// a comment\n/** another */\nexport type DefrostEdit = { readonly a: number };\ninterface DefrostEdit2 {\n  b: string;\n}\nfunction defrostUnused(): number {\n  return 1;\n}\n',
    );
  assert.deepEqual(fingerprints(root), base, 'comments, types and unused declarations change no fingerprint');

  // Files outside every closure: the engine's scheduler, a command, the planner, the backend.
  for (const file of ['pipeline/scheduler.ts', 'stages/similarity/compare-command.ts', 'stages/plan.ts', 'stages/lib/models/backend.ts']) {
    assert.ok(!union.includes(file), `${file} is outside every closure`);
    appendFileSync(join(root, file), "\nconsole.log('an edit');\n");
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

test('help strings, stage descriptions, error messages and the config checks change no stage', () => {
  const root = copySources();
  const base = fingerprints(root);
  const union = closureFiles(root);
  const schema = ['stages/config/schema.ts'];

  assert.ok(editAll(root, schema, /\.describe\(\s*(['"`])/g, '.describe($1edited help: ') > 40, "the schema's help strings");
  assert.deepEqual(fingerprints(root), base, 'help strings of the config schema');
  assert.ok(editAll(root, union, /\.describe\(\s*(['"`])/g, '.describe($1edited help: ') > 0);
  assert.ok(editAll(root, union, /(\bdescription:\s*)(['"`])/g, '$1$2edited description: ') >= stages.length, 'every stage description');
  assert.deepEqual(fingerprints(root), base, 'help strings and stage descriptions everywhere');

  assert.ok(editAll(root, union, /(throw new \w+\(\s*)(['"`])/g, '$1$2edited message: ') > 50, 'thrown messages');
  assert.ok(editAll(root, union, /(new \w+Error\(\s*)(['"`])/g, '$1$2edited message: ') > 10, 'errors made');
  assert.deepEqual(fingerprints(root), base, 'error messages everywhere');

  // The config's cross-field checks are in the schema's module, but no stage calls them.
  assert.ok(editAll(root, schema, /(allowed:\s*)(['"`])/g, '$1$2edited: ') >= 8, "the config checks' messages");
  assert.ok(editAll(root, schema, /if \(similarity\.k >= similarity\.probe_size\)/g, 'if (similarity.k > similarity.probe_size)') === 1);
  assert.deepEqual(fingerprints(root), base, 'the config checks, messages and rules');
});

test('editing the training loop re-keys exactly the training instances and their dependants', () => {
  const root = copySources();
  const base = fingerprints(root);
  const training = ['train-source', 'train-scratch', 'transfer', 'cv-train', 'fine-tune'];
  const loop = join(root, 'stages', 'lib', 'models', 'training.ts');
  const text = readFileSync(loop, 'utf8');
  const edited = text.replace(
    /(export async function trainNetwork\([^)]*\)[^{]*\{)/,
    '$1\n  if (data.rows < 0) return trainNetwork(model, data, options);',
  );
  assert.notEqual(edited, text, 'trainNetwork found');
  writeFileSync(loop, edited);
  const now = fingerprints(root);
  const changed = stages.filter((s) => now.get(s.name) !== base.get(s.name)).map((s) => s.name);
  for (const name of training) assert.ok(changed.includes(name), `${name} changed`);
  const dependants = downstreamOf(training);
  for (const name of changed) assert.ok(dependants.has(name), `${name} is a training stage or depends on one`);
  for (const name of ['generate-data', 'import-data', 'import-source']) assert.ok(!changed.includes(name), `${name} unchanged`);

  // Keys of the quick study: exactly the training instances and everything downstream of them.
  const { config } = loadConfig(defrostProject, QUICK);
  const specs = defrostProject.plan(config);
  clearFingerprintCache();
  const before = buildDag(defrostProject, specs);
  clearFingerprintCache();
  const after = new Map(buildDag({ ...defrostProject, codeRoot: root }, specs).map((i) => [i.id, i.key]));
  const trained = new Set(before.filter((i) => training.includes(i.stage)).map((i) => i.id));
  for (let grew = true; grew;) {
    grew = false;
    for (const i of before)
      if (!trained.has(i.id) && Object.values(i.inputs).some((input) => trained.has(input.id))) {
        trained.add(i.id);
        grew = true;
      }
  }
  const rekeyed = before.filter((i) => after.get(i.id) !== i.key).map((i) => i.id);
  assert.deepEqual(rekeyed.sort(), [...trained].sort());
  assert.ok(rekeyed.length < before.length && rekeyed.length > 0, `${rekeyed.length} of ${before.length} re-keyed`);
});

test("editing a measure's formula re-keys the stages that compare representations and their dependants, not the data or the training", () => {
  // The config loads the measures' registry for their names only (stages/lib/measures/registry.ts).
  const root = copySources();
  const base = fingerprints(root);
  const cka = join(root, 'stages', 'lib', 'measures', 'cka.ts');
  const text = readFileSync(cka, 'utf8');
  const edited = text.replace('return alignment(a.centredGram, b.centredGram);', 'return alignment(a.centredGram, b.centredGram) * 1;');
  assert.notEqual(edited, text, 'linearCka found');
  writeFileSync(cka, edited);
  const now = fingerprints(root);
  const changed = stages.filter((s) => now.get(s.name) !== base.get(s.name)).map((s) => s.name);
  for (const name of ['similarity', 'baseline']) assert.ok(changed.includes(name), `${name} changed`);
  const dependants = downstreamOf(['similarity', 'baseline']);
  for (const name of changed) assert.ok(dependants.has(name), `${name} compares representations or depends on a stage that does`);
  for (const name of ['generate-data', 'train-source', 'train-scratch', 'transfer', 'cv-train'])
    assert.ok(!changed.includes(name), `${name} unchanged`);
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
