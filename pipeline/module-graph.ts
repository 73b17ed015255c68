/**
 * What one source module is, for the code fingerprint (docs/architecture.md, "Code
 * fingerprints"): read from the syntax tree of its meaningful JavaScript (`meaning.ts`: types,
 * comments, help strings and messages gone), statement by statement.
 *
 * - Its runtime imports: static `import`/`export ... from`, side-effect `import '...'`, dynamic
 *   `import('...')` and `new URL('...', import.meta.url)` (how worker scripts are loaded).
 *   Type-only imports are gone with the types; so is an import none of whose bindings is used
 *   as a value (tsc drops it too: that module is not loaded).
 * - Its top-level statements, each with a digest of its tokens, the top-level names it declares
 *   and refers to, and whether it does something when the module loads. A statement that only
 *   declares (a function, a class, a constant of literals) does nothing until something uses
 *   what it declares, so the fingerprint counts it only for stages that reach it (`fingerprint.ts`).
 *
 * Code that runs without being imported (a native addon loaded from its build directory) is named
 * by a `@fingerprint <path>...` tag in a comment of the module that uses it: paths relative to the
 * code root, files or directories, which then enter the fingerprint of every stage reaching it.
 *
 * A dynamic import whose specifier is not a string literal cannot be followed, so it is reported
 * (`opaque`) and the fingerprint refuses the module: a code fingerprint must be complete.
 *
 * Every source file is analysed at build time too (`scripts/build.mjs` stores the results
 * in `dist/.build-stamp.json`, keyed by the file's sha256), so a run whose sources match the
 * build never loads the TypeScript compiler.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import { meaningfulJavaScript, statementDigest } from './meaning.js';

/**
 * One top-level statement. `kind`: `declares` does nothing when the module loads (it counts only
 * where what it declares is used), `runs` does (it always counts), `links` is an import or export
 * clause (it always counts, and names are followed through it).
 */
export interface StatementInfo {
  readonly digest: string;
  readonly kind: 'declares' | 'runs' | 'links';
  /** Top-level names it declares (`*default*` for an anonymous default export). */
  readonly declares: readonly string[];
  /** Top-level names (declared here or imported) it refers to. */
  readonly uses: readonly string[];
  /** Specifiers it loads whole: dynamic imports and worker scripts. */
  readonly loads: readonly string[];
}

export interface ModuleAnalysis {
  /** Every runtime import specifier, in source order, without duplicates. */
  readonly imports: readonly string[];
  /** Specifiers loaded whenever this module is: static imports and re-exports. */
  readonly statics: readonly string[];
  /** 1-based lines of dynamic imports whose specifier is not a string literal. */
  readonly opaque: readonly number[];
  /** Paths (relative to the code root) named by `@fingerprint` tags. */
  readonly tagged: readonly string[];
  readonly statements: readonly StatementInfo[];
  /** Local name -> [specifier, imported name]; `*` for a namespace import. */
  readonly bindings: Readonly<Record<string, readonly [string, string]>>;
  /** Exported name -> local name. */
  readonly exports: Readonly<Record<string, string>>;
  /** Exported name -> [specifier, name there] (`export { a as b } from`, `export * as b from`: `*`). */
  readonly reexports: Readonly<Record<string, readonly [string, string]>>;
  /** Specifiers of `export * from`. */
  readonly stars: readonly string[];
}

/** `@fingerprint a b` at the start of a comment line (after `*` or `//`). */
const TAG = /^\s*(?:\*|\/\/)?\s*@fingerprint\s+(.+?)\s*(?:\*\/)?$/gm;

const DEFAULT_LOCAL = '*default*';

let typescript: typeof TS | null = null;

/** The TypeScript compiler, loaded on first use (it takes about half a second). */
function ts(): typeof TS {
  typescript ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return typescript;
}

/**
 * Identifies this analyser: the compiled code of this module and of `meaning.ts`, and the
 * TypeScript version. An analysis stored by another analyser is not reused.
 */
export function analyserIdentity(): string {
  const hash = createHash('sha256');
  for (const file of ['./module-graph.js', './meaning.js']) hash.update(readFileSync(new URL(file, import.meta.url)));
  const manifest = createRequire(import.meta.url).resolve('typescript/package.json');
  hash.update((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? '');
  return hash.digest('hex').slice(0, 32);
}

/** Names a binding pattern (or identifier) declares. */
function boundNames(t: typeof TS, name: TS.BindingName, out: string[]): void {
  if (t.isIdentifier(name)) out.push(name.text);
  else for (const element of name.elements) if (!t.isOmittedExpression(element)) boundNames(t, element.name, out);
}

/** Evaluating it has no effect and cannot fail in a way that matters: literals, functions, plain object and array literals. */
function isInert(t: typeof TS, node: TS.Expression): boolean {
  if (t.isParenthesizedExpression(node)) return isInert(t, node.expression);
  if (t.isLiteralExpression(node) || t.isIdentifier(node) || t.isArrowFunction(node) || t.isFunctionExpression(node)) return true;
  const kind = node.kind;
  if (kind === t.SyntaxKind.TrueKeyword || kind === t.SyntaxKind.FalseKeyword || kind === t.SyntaxKind.NullKeyword) return true;
  if (t.isPrefixUnaryExpression(node)) return t.isLiteralExpression(node.operand);
  if (t.isVoidExpression(node)) return t.isLiteralExpression(node.expression);
  if (t.isClassExpression(node)) return isInertClass(t, node);
  if (t.isArrayLiteralExpression(node)) return node.elements.every((e) => !t.isSpreadElement(e) && isInert(t, e));
  if (t.isObjectLiteralExpression(node))
    return node.properties.every((p) => {
      if (p.name !== undefined && t.isComputedPropertyName(p.name) && !t.isLiteralExpression(p.name.expression)) return false;
      if (t.isPropertyAssignment(p)) return isInert(t, p.initializer);
      return t.isShorthandPropertyAssignment(p) || t.isMethodDeclaration(p) || t.isAccessor(p);
    });
  return false;
}

/** A class whose definition runs nothing: no decorators, static code, computed names or computed base. */
function isInertClass(t: typeof TS, node: TS.ClassLikeDeclaration): boolean {
  const base = node.heritageClauses?.flatMap((h) => h.types.map((type) => type.expression)) ?? [];
  if (!base.every((e) => t.isIdentifier(e))) return false;
  if (t.canHaveDecorators(node) && (t.getDecorators(node)?.length ?? 0) > 0) return false;
  return node.members.every((m) => {
    if (t.isClassStaticBlockDeclaration(m)) return false;
    if (m.name !== undefined && t.isComputedPropertyName(m.name) && !t.isLiteralExpression(m.name.expression)) return false;
    if (t.canHaveDecorators(m) && (t.getDecorators(m)?.length ?? 0) > 0) return false;
    const isStatic = t.canHaveModifiers(m) && (t.getModifiers(m)?.some((x) => x.kind === t.SyntaxKind.StaticKeyword) ?? false);
    return !(isStatic && t.isPropertyDeclaration(m) && m.initializer !== undefined && !isInert(t, m.initializer));
  });
}

function hasModifier(t: typeof TS, node: TS.Node, kind: TS.SyntaxKind): boolean {
  return t.canHaveModifiers(node) && (t.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

/** Identifiers in positions that name a binding or value (not property names or labels). */
function referencedNames(t: typeof TS, root: TS.Node, out: Set<string>): void {
  const visit = (node: TS.Node): void => {
    if (t.isIdentifier(node)) {
      const parent = node.parent;
      const isPropertyName =
        (t.isPropertyAccessExpression(parent) && parent.name === node) ||
        ((t.isPropertyAssignment(parent) || t.isPropertyDeclaration(parent) || t.isMethodDeclaration(parent) || t.isAccessor(parent)) &&
          parent.name === node) ||
        (t.isBindingElement(parent) && parent.propertyName === node) ||
        t.isLabeledStatement(parent) ||
        t.isBreakOrContinueStatement(parent) ||
        t.isMetaProperty(parent);
      if (!isPropertyName) out.add(node.text);
      return;
    }
    t.forEachChild(node, visit);
  };
  visit(root);
}

export function analyseModule(text: string, fileName: string): ModuleAnalysis {
  const t = ts();
  const js = meaningfulJavaScript(t, text, fileName);
  const source = t.createSourceFile(fileName.replace(/\.[mc]?ts$/, '.js'), js, t.ScriptTarget.Latest, true, t.ScriptKind.JS);
  const imports: string[] = [];
  const statics: string[] = [];
  let computedImport = false;
  // Maps, not objects: a name such as `__proto__` or `constructor` is just a name here.
  const bindings = new Map<string, readonly [string, string]>();
  const exports = new Map<string, string>();
  const reexports = new Map<string, readonly [string, string]>();
  const stars: string[] = [];
  const addImport = (specifier: string, list: string[]): void => {
    if (!imports.includes(specifier)) imports.push(specifier);
    if (!list.includes(specifier)) list.push(specifier);
  };

  const raw = source.statements.map((statement) => {
    const declares: string[] = [];
    const loads: string[] = [];
    let kind: StatementInfo['kind'] = 'runs';
    if (t.isImportDeclaration(statement) && t.isStringLiteral(statement.moduleSpecifier)) {
      const from = statement.moduleSpecifier.text;
      kind = 'links';
      addImport(from, statics);
      const clause = statement.importClause;
      if (clause?.name) bindings.set(clause.name.text, [from, 'default']);
      const named = clause?.namedBindings;
      if (named && t.isNamespaceImport(named)) bindings.set(named.name.text, [from, '*']);
      if (named && t.isNamedImports(named))
        for (const e of named.elements) bindings.set(e.name.text, [from, (e.propertyName ?? e.name).text]);
    } else if (t.isExportDeclaration(statement)) {
      kind = 'links';
      const from = statement.moduleSpecifier && t.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : null;
      if (from !== null) addImport(from, statics);
      const clause = statement.exportClause;
      if (clause === undefined) {
        if (from !== null && !stars.includes(from)) stars.push(from);
      } else if (t.isNamespaceExport(clause)) {
        if (from !== null) reexports.set(clause.name.text, [from, '*']);
      } else {
        for (const e of clause.elements) {
          const local = (e.propertyName ?? e.name).text;
          if (from !== null) reexports.set(e.name.text, [from, local]);
          else exports.set(e.name.text, local);
        }
      }
    } else if (t.isExportAssignment(statement)) {
      declares.push(DEFAULT_LOCAL);
      exports.set('default', DEFAULT_LOCAL);
      if (isInert(t, statement.expression)) kind = 'declares';
    } else if (t.isFunctionDeclaration(statement) || t.isClassDeclaration(statement)) {
      const name = statement.name?.text ?? DEFAULT_LOCAL;
      declares.push(name);
      if (t.isFunctionDeclaration(statement) || isInertClass(t, statement)) kind = 'declares';
    } else if (t.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) boundNames(t, d.name, declares);
      const inert = statement.declarationList.declarations.every(
        (d) => t.isIdentifier(d.name) && (d.initializer === undefined || isInert(t, d.initializer)),
      );
      if (inert) kind = 'declares';
    }
    if (hasModifier(t, statement, t.SyntaxKind.ExportKeyword) && !t.isExportDeclaration(statement)) {
      if (hasModifier(t, statement, t.SyntaxKind.DefaultKeyword)) exports.set('default', declares[0]);
      else for (const name of declares) exports.set(name, name);
    }
    const uses = new Set<string>();
    if (kind !== 'links') referencedNames(t, statement, uses);
    // Dynamic imports and workers, wherever they are in the statement.
    const visit = (node: TS.Node): void => {
      if (t.isCallExpression(node) && node.expression.kind === t.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && t.isStringLiteralLike(arg)) addImport(arg.text, loads);
        else computedImport = true;
      }
      if (t.isNewExpression(node) && t.isIdentifier(node.expression) && node.expression.text === 'URL') {
        const [first, second] = node.arguments ?? [];
        if (first && t.isStringLiteralLike(first) && second && second.getText(source) === 'import.meta.url' && first.text.startsWith('.'))
          addImport(first.text, loads);
      }
      t.forEachChild(node, visit);
    };
    visit(statement);
    return { digest: statementDigest(t, statement, source), kind, declares, uses, loads };
  });

  const topLevel = new Set([...bindings.keys(), ...raw.flatMap((s) => s.declares)]);
  const statements = raw.map((s) => ({ ...s, uses: [...s.uses].filter((n) => topLevel.has(n)).sort() }));
  const tagged: string[] = [];
  for (const match of text.matchAll(TAG)) for (const path of match[1].split(/\s+/)) if (path && !tagged.includes(path)) tagged.push(path);
  return {
    imports,
    statics,
    opaque: computedImport ? opaqueLines(t, text, fileName) : [],
    tagged,
    statements,
    bindings: Object.fromEntries(bindings),
    exports: Object.fromEntries(exports),
    reexports: Object.fromEntries(reexports),
    stars,
  };
}

/** Lines of the source (not of its JavaScript) holding a dynamic import with a computed specifier. */
function opaqueLines(t: typeof TS, text: string, fileName: string): number[] {
  const source = t.createSourceFile(fileName, text, t.ScriptTarget.Latest, false);
  const lines: number[] = [];
  const visit = (node: TS.Node): void => {
    if (
      t.isCallExpression(node) &&
      node.expression.kind === t.SyntaxKind.ImportKeyword &&
      !(node.arguments[0] && t.isStringLiteralLike(node.arguments[0]))
    )
      lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    t.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}
