/**
 * Dependencies earn their place (docs/architecture.md, "Dependencies"): every package that
 * package.json lists is imported somewhere in the sources. A dependency or optional dependency by
 * the code that runs (pipeline/, stages/, bin/, scripts/; an optional one may be loaded by a
 * computed specifier, as it may be absent, so its name as a string literal there counts); a
 * devDependency by anything (tests, bench/, eslint.config.js), unless it is a command-line tool or
 * `@types/X`, which earns its place with X.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import fastGlob from 'fast-glob';
import ts from 'typescript';
import { packageName } from '../pipeline/fingerprint.js';
import { ROOT } from './engine-helpers.js';

/** devDependencies that only run as commands: nothing imports them. */
const COMMAND_LINE_TOOLS: Record<string, string> = { eslint: 'make lint', prettier: 'make lint' };

const RUNTIME_DIRS = ['pipeline', 'stages', 'bin', 'scripts', 'native'];
const SOURCE = '**/*.{ts,mts,js,mjs,cjs}';

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const tsconfigTypes = (JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions?: { types?: string[] } })
  .compilerOptions?.types;

const list = (patterns: string[]): string[] => fastGlob.sync(patterns, { cwd: ROOT, ignore: ['**/node_modules/**', 'native/build/**'] });
const runtimeFiles = list(RUNTIME_DIRS.map((dir) => `${dir}/${SOURCE}`));
const allFiles = [...new Set([...runtimeFiles, ...list([`{test,bench}/${SOURCE}`, '*.{js,mjs}'])])];
const text = new Map(allFiles.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

/**
 * Packages a file imports, as TypeScript's import scanner finds them (static and dynamic imports,
 * re-exports, `require(...)`), and `require.resolve(...)` and `createRequire(...)(...)` calls with
 * a literal name.
 */
function packagesLoadedBy(file: string): string[] {
  const source = text.get(file) as string;
  const specifiers = ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
  for (const match of source.matchAll(/(?:\brequire|\.resolve|\))\(\s*(['"])([^'"\s]+)\1/g)) specifiers.push(match[2]);
  return specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('/') && !isBuiltin(s)).map(packageName);
}
const loadedBy = (files: string[]): Set<string> => new Set(files.flatMap(packagesLoadedBy));
const loadedAtRuntime = loadedBy(runtimeFiles);
const loadedAnywhere = loadedBy(allFiles);

const namedAsString = (name: string): boolean =>
  runtimeFiles.some((file) => ["'", '"', '`'].some((quote) => (text.get(file) as string).includes(`${quote}${name}${quote}`)));

test('the sources are found (the checks below see the imports)', () => {
  for (const file of ['pipeline/store.ts', 'bin/defrost.js', 'scripts/build.mjs', 'eslint.config.js']) assert.ok(text.has(file), file);
  assert.ok(loadedAtRuntime.has('zod') && loadedAtRuntime.has('commander'), [...loadedAtRuntime].join(' '));
  assert.ok(!loadedAnywhere.has('node:fs') && !loadedAnywhere.has('fs'), 'built-in modules are not packages');
});

test('every dependency is loaded by the code that runs', () => {
  const unused = Object.keys(pkg.dependencies ?? {}).filter((name) => !loadedAtRuntime.has(name));
  assert.deepEqual(
    unused,
    [],
    `package.json lists dependencies that nothing in ${RUNTIME_DIRS.join('/, ')}/ imports: remove them ` +
      '(or, if only tests or bench/ use them, make them devDependencies)',
  );
});

test('every optional dependency is loaded, or named for a computed import, by the code that runs', () => {
  const unused = Object.keys(pkg.optionalDependencies ?? {}).filter((name) => !loadedAtRuntime.has(name) && !namedAsString(name));
  assert.deepEqual(unused, [], `package.json lists optional dependencies that nothing in ${RUNTIME_DIRS.join('/, ')}/ loads: remove them`);
});

test('every devDependency is imported, types a package in use, or is a command-line tool', () => {
  const typesPackage = (name: string): boolean => {
    if (!name.startsWith('@types/')) return false;
    const typed = name.slice('@types/'.length);
    const pkgName = typed.includes('__') ? `@${typed.replace('__', '/')}` : typed;
    return loadedAnywhere.has(pkgName) || (tsconfigTypes ?? []).includes(typed);
  };
  const unused = Object.keys(pkg.devDependencies ?? {}).filter(
    (name) => !loadedAnywhere.has(name) && !typesPackage(name) && !(name in COMMAND_LINE_TOOLS),
  );
  assert.deepEqual(unused, [], 'package.json lists devDependencies that nothing imports: remove them');
});
