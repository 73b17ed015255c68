/**
 * The code fingerprint of a stage (docs/architecture.md, "Code fingerprints"): sha256 over
 * - the meaning of the code the stage can run: starting from the stage's module, every module
 *   it loads inside the project's code root (static, side-effect and dynamic imports and
 *   `new URL('./x.js', import.meta.url)` workers, from the syntax tree: `module-graph.ts`), and
 *   in each module the statements that run when it loads, its import and export clauses, and the
 *   declarations the stage reaches from those — each as the digest of its tokens after types,
 *   comments, help strings and error messages are taken out (`meaning.ts`);
 * - the files named by `@fingerprint` tags: a script whole (every export), others by their bytes;
 * - the name and installed version of every npm package those modules import (a new
 *   apache-arrow or TensorFlow.js may change bytes; their own dependencies are pinned by the
 *   lock file and move with them).
 * A stage that declares a `version` is fingerprinted by that instead (the escape hatch for what
 * analysis cannot see). Node built-ins (`node:*`) do not enter.
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
import { analyseModule, analyserIdentity, type ModuleAnalysis } from './module-graph.js';
import type { AnyStage } from './stage.js';

export interface CodeFingerprint {
  /** sha256 hex of what the stage runs (or of its declared `version`). */
  readonly fingerprint: string;
  /**
   * Paths (relative to the code root, sorted) of the files the stage loads, then
   * `npm:<name>@<version>` entries; `version:<v>` alone for a stage with a declared version.
   */
  readonly files: readonly string[];
}

/** A stage definition that cannot be fingerprinted: a bug in the project, not in user input. */
export class FingerprintError extends Error {}

const memo = new Map<string, CodeFingerprint>();
/** Each source file's bytes and analysis, read once per process (stages share most files). */
const sources = new Map<string, { bytes: Buffer; analysis: ModuleAnalysis | null }>();
/** Where each import specifier of each source leads, once per process. */
const resolutions = new Map<string, { file: string | null; pkg: string | null }>();
/** Analyses by content hash: the build stamp's (see scripts/build.mjs) and this process's. */
const analyses = new Map<string, ModuleAnalysis>();
let stampLoaded = false;

/**
 * The build stamp holds the analysis of every source the build compiled, keyed by sha256; they
 * are used only if this analyser made them (`analyserIdentity`).
 */
function loadStampAnalyses(): void {
  if (stampLoaded) return;
  stampLoaded = true;
  const stamp = fileURLToPath(new URL('../.build-stamp.json', import.meta.url));
  if (!existsSync(stamp)) return;
  try {
    const data = JSON.parse(readFileSync(stamp, 'utf8')) as { analyser?: string; modules?: Record<string, ModuleAnalysis> };
    if (data.analyser !== analyserIdentity()) return;
    for (const [sha, analysis] of Object.entries(data.modules ?? {})) analyses.set(sha, analysis);
  } catch {
    // An unreadable stamp only costs analysis time.
  }
}

function analysisOf(rel: string, bytes: Buffer): ModuleAnalysis {
  const sha = createHash('sha256').update(bytes).digest('hex');
  loadStampAnalyses();
  let result = analyses.get(sha);
  if (!result) {
    result = analyseModule(bytes.toString('utf8'), rel);
    analyses.set(sha, result);
  }
  return result;
}

/** A file's bytes, and its analysis if it is a script. */
function sourceFile(codeRoot: string, rel: string): { bytes: Buffer; analysis: ModuleAnalysis | null } {
  const path = join(codeRoot, rel);
  let known = sources.get(path);
  if (!known) {
    const bytes = readFileSync(path);
    known = { bytes, analysis: /\.(m?[jt]s|tsx)$/.test(rel) ? analysisOf(rel, bytes) : null };
    sources.set(path, known);
  }
  return known;
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
  for (const c of candidates) if (existsSync(c) && !c.endsWith(sep) && statSync(c).isFile()) return c;
  return null;
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
export function packageName(specifier: string): string {
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

/**
 * What `specifier` in source `from` names: a source file under the code root, or an npm package
 * (neither for a Node built-in or a file outside the code root, e.g. bin/ from dist/).
 */
function resolveSpecifier(codeRoot: string, from: string, specifier: string): { file: string | null; pkg: string | null } {
  const memoKey = `${codeRoot}\u0000${from}\u0000${specifier}`;
  const known = resolutions.get(memoKey);
  if (known) return known;
  let result: { file: string | null; pkg: string | null } = { file: null, pkg: null };
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const target = resolveRelative(codeRoot, from, specifier);
    if (target === null) throw new FingerprintError(`${from}: import "${specifier}" resolves to no file under ${codeRoot}`);
    const rel = relative(codeRoot, target);
    if (!rel.startsWith('..')) result = { file: rel, pkg: null };
  } else if (!specifier.startsWith('node:') && !isBuiltin(specifier)) result = { file: null, pkg: packageName(specifier) };
  resolutions.set(memoKey, result);
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

/** A file a stage loads: its analysis (null: not a script, counted by its bytes) and what of it the stage uses. */
interface Reached {
  readonly bytes: Buffer;
  readonly analysis: ModuleAnalysis | null;
  /** Statements that count (by index). */
  readonly kept: Set<number>;
  /** Exported names asked for, and top-level names used. */
  readonly asked: Set<string>;
  readonly used: Set<string>;
  /** Every export asked for (a dynamic import, a namespace, the stage's own module). */
  all: boolean;
}

/**
 * What a stage can run, found the way the module loader and the code would find it: a module
 * loaded runs its `runs` statements and loads its static imports; a name used is looked up in
 * the module's declarations or followed through its imports and re-exports; a dynamic import or
 * a worker loads a module and may use any of its exports.
 */
class Closure {
  readonly files = new Map<string, Reached>();
  readonly packages = new Map<string, string>();

  constructor(private readonly codeRoot: string) {}

  /** The source file under the code root that `specifier` in `from` names; null for a package or a file outside. */
  private target(from: string, specifier: string): string | null {
    const { file, pkg } = resolveSpecifier(this.codeRoot, from, specifier);
    if (pkg !== null && !this.packages.has(pkg)) this.packages.set(pkg, packageVersion(this.codeRoot, pkg));
    return file;
  }

  private addBytes(rel: string): void {
    if (!this.files.has(rel)) {
      const { bytes } = sourceFile(this.codeRoot, rel);
      this.files.set(rel, { bytes, analysis: null, kept: new Set(), asked: new Set(), used: new Set(), all: false });
    }
  }

  /** Loads a module: its statements that run, its static imports, the files its tags name. */
  reach(rel: string): Reached {
    const known = this.files.get(rel);
    if (known) return known;
    const { bytes, analysis } = sourceFile(this.codeRoot, rel);
    const file: Reached = { bytes, analysis, kept: new Set(), asked: new Set(), used: new Set(), all: false };
    this.files.set(rel, file);
    if (analysis === null) return file;
    for (const target of analysis.tagged) {
      if (!existsSync(join(this.codeRoot, target)))
        throw new FingerprintError(`${rel}: @fingerprint names ${target}, which does not exist under ${this.codeRoot}`);
      for (const tagged of filesUnder(this.codeRoot, target)) {
        // A tagged script counts whole (code that runs by a route no import shows); other files by their bytes.
        if (/\.(m?[jt]s|tsx)$/.test(tagged)) this.askAll(tagged);
        else this.addBytes(tagged);
      }
    }
    if (analysis.opaque.length > 0)
      throw new FingerprintError(
        `${rel}:${analysis.opaque[0]}: a dynamic import with a computed specifier; the code fingerprint cannot follow it (use a string literal)`,
      );
    for (const specifier of analysis.imports) this.target(rel, specifier);
    for (const specifier of analysis.statics) {
      const target = this.target(rel, specifier);
      if (target !== null) this.reach(target);
    }
    analysis.statements.forEach((s, i) => {
      if (s.kind === 'runs') this.keep(rel, file, i);
    });
    return file;
  }

  private keep(rel: string, file: Reached, index: number): void {
    if (file.kept.has(index) || file.analysis === null) return;
    file.kept.add(index);
    const statement = file.analysis.statements[index];
    for (const name of statement.uses) this.use(rel, file, name);
    for (const specifier of statement.loads) {
      const target = this.target(rel, specifier);
      if (target !== null) this.askAll(target);
    }
  }

  /** A top-level name of `rel` is used: its declarations count, or the export it imports. */
  private use(rel: string, file: Reached, name: string): void {
    const analysis = file.analysis;
    if (analysis === null || file.used.has(name)) return;
    file.used.add(name);
    if (Object.hasOwn(analysis.bindings, name)) this.follow(rel, analysis.bindings[name]);
    analysis.statements.forEach((s, i) => {
      if (s.declares.includes(name)) this.keep(rel, file, i);
    });
  }

  /** An import or re-export of `rel` is used: export `name` of the module `specifier` names (`*`: any). */
  private follow(rel: string, [specifier, name]: readonly [string, string]): void {
    const target = this.target(rel, specifier);
    if (target === null) return;
    if (name === '*') this.askAll(target);
    else this.ask(target, name);
  }

  /** Another module uses export `name` of `rel`. */
  ask(rel: string, name: string): void {
    const file = this.reach(rel);
    const analysis = file.analysis;
    if (analysis === null || file.all || file.asked.has(name)) return;
    file.asked.add(name);
    if (Object.hasOwn(analysis.exports, name)) return this.use(rel, file, analysis.exports[name]);
    if (Object.hasOwn(analysis.reexports, name)) return this.follow(rel, analysis.reexports[name]);
    for (const specifier of analysis.stars) {
      const target = this.target(rel, specifier);
      if (target !== null) this.ask(target, name);
    }
  }

  /** Any export of `rel` may be used. */
  askAll(rel: string): void {
    const file = this.reach(rel);
    const analysis = file.analysis;
    if (analysis === null || file.all) return;
    file.all = true;
    for (const local of Object.values(analysis.exports)) this.use(rel, file, local);
    for (const link of Object.values(analysis.reexports)) this.follow(rel, link);
    for (const specifier of analysis.stars) {
      const target = this.target(rel, specifier);
      if (target !== null) this.askAll(target);
    }
  }

  /** sha256 over each file's path and what of it counts, then the packages. */
  digest(): CodeFingerprint {
    const paths = [...this.files.keys()].sort();
    const hash = createHash('sha256');
    for (const rel of paths) {
      const { bytes, analysis, kept } = this.files.get(rel) as Reached;
      hash.update(rel.split(sep).join('/')).update('\u0000');
      if (analysis === null) hash.update(`bytes ${bytes.length}\u0000`).update(bytes);
      else for (const [i, s] of analysis.statements.entries()) if (s.kind === 'links' || kept.has(i)) hash.update(`${s.digest}\u0000`);
      hash.update('\u0001');
    }
    const packages = [...this.packages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `npm:${n}@${v}`);
    for (const p of packages) hash.update(p).update('\u0000');
    return { fingerprint: hash.digest('hex'), files: [...paths.map((p) => p.split(sep).join('/')), ...packages] };
  }
}

/** The code fingerprint of `stage`, whose module's sources are under `codeRoot`. */
export function fingerprintStage(codeRoot: string, stage: AnyStage): CodeFingerprint {
  if (stage.version !== undefined)
    return { fingerprint: createHash('sha256').update(`version\u0000${stage.version}`).digest('hex'), files: [`version:${stage.version}`] };
  const entry = sourceOfModule(stage.module, codeRoot);
  const memoKey = `${codeRoot}\u0000${entry}`;
  const known = memo.get(memoKey);
  if (known) return known;
  if (!existsSync(join(codeRoot, entry)))
    throw new FingerprintError(`stage ${stage.name}: module ${entry} does not exist under ${codeRoot}`);
  const closure = new Closure(codeRoot);
  try {
    // The engine reads the stage from its module's exports: all of them may be used.
    closure.askAll(entry);
  } catch (error) {
    if (error instanceof FingerprintError) throw new FingerprintError(`stage ${stage.name}: ${error.message}`);
    throw error;
  }
  const result = closure.digest();
  memo.set(memoKey, result);
  return result;
}

/** Forgets memoised fingerprints (tests edit code between runs in one process). */
export function clearFingerprintCache(): void {
  memo.clear();
  sources.clear();
  resolutions.clear();
}
