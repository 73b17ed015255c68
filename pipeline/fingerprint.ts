/**
 * The code fingerprint of a stage (docs/architecture.md, "Code fingerprints"): sha256 over
 * - the (path, bytes) of every source file in the transitive import closure of the stage's
 *   module inside the project's code root — static, side-effect and dynamic imports and
 *   `new URL('./x.js', import.meta.url)` workers, read from the real syntax tree
 *   (`module-graph.ts`), type-only imports left out because they never run;
 * - the name and installed version of every npm package that closure imports (a new
 *   apache-arrow or TensorFlow.js may change bytes; their own dependencies are pinned by the
 *   lock file and move with them).
 * Editing any file of the closure re-keys the stage (and, through input keys, everything
 * downstream); editing any other file does not. Node built-ins (`node:*`) do not enter.
 *
 * Sources are found from compiled paths: a module at `<root>/dist/a/b.js` is `a/b.ts` of the
 * code root. A relative import that resolves to no file, or a dynamic import with a computed
 * specifier, makes the closure unknowable, so it is an error (a bug in the project).
 * Results are memoised per process: the scheduler fingerprints each stage once per run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseImports, type ParsedImports } from './module-graph.js';
import type { AnyStage } from './stage.js';

export interface CodeFingerprint {
  /** sha256 hex of the closure's paths and bytes and its packages' versions. */
  readonly fingerprint: string;
  /** Closure paths relative to the code root, sorted, then `npm:<name>@<version>` entries. */
  readonly files: readonly string[];
}

/** A stage definition that cannot be fingerprinted: a bug in the project, not in user input. */
export class FingerprintError extends Error {}

const memo = new Map<string, CodeFingerprint>();
/** Parses by content hash: the build stamp's (see scripts/build-stamp.mjs) and this process's. */
const parsed = new Map<string, ParsedImports>();
let stampLoaded = false;

/** The build stamp holds the parse of every source the build compiled, keyed by sha256. */
function loadStampParses(): void {
  if (stampLoaded) return;
  stampLoaded = true;
  const stamp = fileURLToPath(new URL('../.build-stamp.json', import.meta.url));
  if (!existsSync(stamp)) return;
  try {
    const data = JSON.parse(readFileSync(stamp, 'utf8')) as { imports?: Record<string, ParsedImports> };
    for (const [sha, imports] of Object.entries(data.imports ?? {})) parsed.set(sha, imports);
  } catch {
    // An unreadable stamp only costs parsing time.
  }
}

/** The source path (relative to the code root) of a stage's `module`. */
export function sourceOfModule(module: string, codeRoot: string): string {
  if (!module.startsWith('file:')) return module.split('/').join(sep);
  const path = fileURLToPath(module);
  const marker = `${sep}dist${sep}`;
  const at = path.lastIndexOf(marker);
  const rel = at >= 0 ? path.slice(at + marker.length) : relative(codeRoot, path);
  return rel.replace(/\.(m?)js$/, '.$1ts');
}

/** `a/b.js` imported from a .ts file is `a/b.ts` on disk; also `a/b` -> `a/b.ts`, `a/b/index.ts`. */
function resolveRelative(codeRoot: string, from: string, specifier: string): string | null {
  const base = join(dirname(join(codeRoot, from)), specifier);
  const candidates = [base.replace(/\.(m?)js$/, '.$1ts'), base, `${base}.ts`, join(base, 'index.ts')];
  for (const c of candidates) if (existsSync(c) && !c.endsWith(sep)) return c;
  return null;
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The installed version of a package, looked up from the code root upwards; `absent` if none. */
function packageVersion(codeRoot: string, name: string): string {
  for (let dir = codeRoot; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      try {
        return String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown');
      } catch {
        return 'unreadable';
      }
    }
    if (dirname(dir) === dir) return 'absent';
  }
}

function importsOf(path: string, rel: string, bytes: Buffer): ParsedImports {
  if (!/\.(m?[jt]s|tsx)$/.test(path)) return { imports: [], opaque: [], tagged: [] };
  const sha = createHash('sha256').update(bytes).digest('hex');
  loadStampParses();
  let result = parsed.get(sha);
  if (!result || !Array.isArray(result.tagged)) {
    result = parseImports(bytes.toString('utf8'), rel);
    parsed.set(sha, result);
  }
  return result;
}

/** `target` itself if it is a file, else every file under it (build outputs excluded), sorted. */
function filesUnder(codeRoot: string, target: string): string[] {
  const full = join(codeRoot, target);
  if (!statSync(full).isDirectory()) return [target];
  return readdirSync(full, { withFileTypes: true })
    .filter((e) => e.name !== 'build' && e.name !== 'node_modules' && !e.name.startsWith('.'))
    .flatMap((e) => filesUnder(codeRoot, join(target, e.name)))
    .sort();
}

/** The files and packages of a module's import closure inside `codeRoot`. */
export function importClosure(codeRoot: string, entry: string): { files: Map<string, Buffer>; packages: Map<string, string> } {
  const files = new Map<string, Buffer>();
  const packages = new Map<string, string>();
  const queue = [entry];
  if (!existsSync(join(codeRoot, entry))) throw new FingerprintError(`module ${entry} does not exist under ${codeRoot}`);
  while (queue.length > 0) {
    const rel = queue.pop() as string;
    if (files.has(rel)) continue;
    const path = join(codeRoot, rel);
    const bytes = readFileSync(path);
    files.set(rel, bytes);
    const { imports, opaque, tagged } = importsOf(path, rel, bytes);
    for (const target of tagged) {
      if (!existsSync(join(codeRoot, target)))
        throw new FingerprintError(`${rel}: @fingerprint names ${target}, which does not exist under ${codeRoot}`);
      for (const file of filesUnder(codeRoot, target)) if (!files.has(file)) files.set(file, readFileSync(join(codeRoot, file)));
    }
    if (opaque.length > 0)
      throw new FingerprintError(
        `${rel}:${opaque[0]}: a dynamic import with a computed specifier; the code fingerprint cannot follow it (use a string literal)`,
      );
    for (const specifier of imports) {
      if (specifier.startsWith('.') || isAbsolute(specifier)) {
        const target = resolveRelative(codeRoot, rel, specifier);
        if (target === null) throw new FingerprintError(`${rel}: import "${specifier}" resolves to no file under ${codeRoot}`);
        const targetRel = relative(codeRoot, target);
        // Outside the code root (a path relative to dist/, e.g. bin/): not the project's source.
        if (targetRel.startsWith('..')) continue;
        queue.push(targetRel);
      } else if (!specifier.startsWith('node:') && !isBuiltin(specifier)) {
        const name = packageName(specifier);
        if (!packages.has(name)) packages.set(name, packageVersion(codeRoot, name));
      }
    }
  }
  return { files, packages };
}

export function fingerprintStage(codeRoot: string, stage: AnyStage): CodeFingerprint {
  const entry = sourceOfModule(stage.module, codeRoot);
  const memoKey = `${codeRoot}\u0000${entry}`;
  const known = memo.get(memoKey);
  if (known) return known;
  let closure;
  try {
    closure = importClosure(codeRoot, entry);
  } catch (error) {
    if (error instanceof FingerprintError) throw new FingerprintError(`stage ${stage.name}: ${error.message}`);
    throw error;
  }
  const paths = [...closure.files.keys()].sort();
  const hash = createHash('sha256');
  for (const file of paths) {
    const bytes = closure.files.get(file) as Buffer;
    hash.update(file.split(sep).join('/')).update('\u0000').update(String(bytes.length)).update('\u0000').update(bytes);
  }
  const packages = [...closure.packages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `npm:${n}@${v}`);
  for (const p of packages) hash.update(p).update('\u0000');
  const result: CodeFingerprint = { fingerprint: hash.digest('hex'), files: [...paths.map((p) => p.split(sep).join('/')), ...packages] };
  memo.set(memoKey, result);
  return result;
}

/** Forgets memoised fingerprints (tests edit code between runs in one process). */
export function clearFingerprintCache(): void {
  memo.clear();
}
