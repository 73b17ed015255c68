/**
 * What of a module counts in a code fingerprint (docs/architecture.md, "Code fingerprints"),
 * on small made-up modules: which imports are followed, which text is not meaning (comments,
 * types, layout, help strings, error messages), which statements count (what runs when the
 * module loads and what a stage reaches from there), and a stage's declared `version`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import { clearFingerprintCache, fingerprintStage } from '../pipeline/fingerprint.js';
import { analyseModule } from '../pipeline/module-graph.js';
import { defineStage, type AnyStage } from '../pipeline/stage.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('fingerprint-meaning');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The statement digests of a module: equal lists mean equal meaning. */
const digests = (text: string): string[] => analyseModule(text, 'probe.ts').statements.map((s) => s.digest);

test('the closure follows static, dynamic and worker imports, and skips type-only and unused ones', () => {
  const parsed = analyseModule(
    [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C } from './c.js';",
      "export { d } from './d.js';",
      "export type { E } from './e.js';",
      "import './f.js';",
      "import { unused } from './u.js';",
      "const g = await import('./g.js');",
      "type H = typeof import('./h.js');",
      "const w = new URL('./worker.js', import.meta.url);",
      'const x = await import(somewhere);',
      'console.log(a, g, w, x);',
    ].join('\n'),
    'probe.ts',
  );
  assert.deepEqual(parsed.imports, ['./a.js', './d.js', './f.js', './g.js', './worker.js']);
  assert.deepEqual(parsed.statics, ['./a.js', './d.js', './f.js']);
  assert.deepEqual(parsed.opaque, [11], 'the line in the TypeScript source');
});

test('comments, types, layout, help strings and error messages are not meaning; other text is', () => {
  const same = (a: string, b: string): void => assert.deepEqual(digests(a), digests(b), `${a}\n  ~\n${b}`);
  const differ = (a: string, b: string): void => assert.notDeepEqual(digests(a), digests(b), `${a}\n  !~\n${b}`);
  same('const o = {a: 1, b: "x"};', "// note\nconst o = {\n  a: 1, // one\n  b: 'x',\n};");
  same('function f(x) { return x + 1; }', 'function f(x: number): number {\n  return (x as number) + 1;\n}\ninterface I { a: string }');
  same("const s = z.string().describe('the help');", 'const s = z.string().describe(`other help`);');
  same("if (x) throw new UsageError(`bad ${x}: use 'a'`);", 'if (x) throw new UsageError(`wrong ${x}`);');
  same("const e = new RangeError('too big: ' + n);", "const e = new RangeError('out of range: ' + n);");
  same(
    "export const s = defineStage({ name: 'probe', description: 'one line', module: import.meta.url });",
    "export const s = defineStage({ name: 'probe', description: 'another line', module: import.meta.url });",
  );
  differ("const s = 'a';", "const s = 'b';");
  differ('function f(x) { return x + 1; }', 'function f(x) { return x - 1; }');
  differ("if (x) throw new UsageError('bad');", "if (!x) throw new UsageError('bad');");
  differ("throw new UsageError('bad' + a);", "throw new UsageError('bad' + b);");
  differ("throw new Error(`${f('x')}`);", "throw new Error(`${f('y')}`);");
  differ("const d = { name: 'probe', description: 'one line' };", "const d = { name: 'probe', description: 'two lines' };");
  differ('const r = /a b/;', 'const r = /a  b/;');
  differ('const t = `a b`;', 'const t = `a  b`;');
});

/** Writes `files` under a fresh code root; returns it. */
function codeRoot(files: Record<string, string>): string {
  const root = join(dir, `code-${Math.random().toString(36).slice(2)}`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

function probeStage(version?: string): AnyStage {
  return defineStage({
    name: 'probe',
    description: 'a made-up stage',
    module: 'entry.ts',
    ...(version === undefined ? {} : { version }),
    params: z.strictObject({}),
    inputs: {},
    outputs: {},
    async run() {
      return {};
    },
  });
}

const MODULES: Record<string, string> = {
  'entry.ts': [
    "import { used } from './lib.js';",
    "import * as ns from './ns.js';",
    "export const stage = { run: async () => { const job = await import('./job.js'); return used() + ns.x + job.y + job.s(); } };",
  ].join('\n'),
  'lib.ts': [
    'export function used() { return helper(); }',
    'function helper() { return 1; }',
    'export function unused() { return 2; }',
    'export const TABLE = [1, 2];',
    "console.log('lib loaded');",
  ].join('\n'),
  'ns.ts': 'export const x = 1;\nexport function other() { return 3; }\n',
  'job.ts': "export { y } from './reexport.js';\nexport * from './star.js';\n",
  'reexport.ts': 'export const y = 2;\nexport const z = 3;\n',
  'star.ts': 'export function s() { return 4; }\n',
};

test('a stage counts what runs when its modules load and what it reaches from there', () => {
  const fingerprint = (edits: Record<string, [string, string]>, version?: string): string => {
    const files = { ...MODULES };
    for (const [file, [from, to]] of Object.entries(edits)) {
      assert.ok(files[file].includes(from), `${from} in ${file}`);
      files[file] = files[file].replace(from, to);
    }
    clearFingerprintCache();
    return fingerprintStage(codeRoot(files), probeStage(version)).fingerprint;
  };
  const base = fingerprint({});
  const counts = (file: string, from: string, to: string, expected: boolean): void =>
    assert.equal(fingerprint({ [file]: [from, to] }) !== base, expected, `${file}: ${from} -> ${to}`);
  counts('lib.ts', 'return 1;', 'return 5;', true); // a function the stage calls, through another
  counts('lib.ts', "'lib loaded'", "'lib here'", true); // runs when the module loads
  counts('lib.ts', 'return 2;', 'return 5;', false); // an export nobody imports
  counts('lib.ts', '[1, 2]', '[1, 3]', false); // a constant nobody uses
  counts('ns.ts', 'return 3;', 'return 5;', true); // a namespace import may use any export
  counts('reexport.ts', 'y = 2', 'y = 5', true); // re-exported to a dynamic import
  counts('reexport.ts', 'z = 3', 'z = 5', false); // not re-exported
  counts('star.ts', 'return 4;', 'return 5;', true); // export * to a dynamic import
  counts('entry.ts', 'ns.x', 'ns.x * 2', true); // the stage's own module
  assert.equal(fingerprint({ 'lib.ts': ['return 1;', 'return /* one */ 1;'] }), base, 'a comment');
});

test('a declared version replaces the code: code edits change nothing, a new version re-keys', () => {
  const root = codeRoot(MODULES);
  clearFingerprintCache();
  const v1 = fingerprintStage(root, probeStage('1'));
  assert.deepEqual(v1.files, ['version:1']);
  writeFileSync(join(root, 'lib.ts'), MODULES['lib.ts'].replace('return 1;', 'return 5;'));
  clearFingerprintCache();
  assert.equal(fingerprintStage(root, probeStage('1')).fingerprint, v1.fingerprint, 'code edits do not count');
  assert.notEqual(fingerprintStage(root, probeStage('2')).fingerprint, v1.fingerprint, 'a new version re-keys');
  assert.notEqual(fingerprintStage(root, probeStage()).fingerprint, v1.fingerprint, 'without a version: the code');
});
