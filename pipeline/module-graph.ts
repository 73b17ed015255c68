/**
 * The runtime imports of a TypeScript (or JavaScript) module, read from its syntax tree with the
 * TypeScript compiler's parser: static `import`/`export ... from`, side-effect `import '...'`,
 * dynamic `import('...')` and `new URL('...', import.meta.url)` (how worker scripts are loaded).
 * Type-only imports (`import type`, `export type`, `import { type A }` with every binding typed)
 * are left out: tsc erases them, so they never run.
 *
 * Code that runs without being imported (a native addon loaded from its build directory) is named
 * by a `@fingerprint <path>...` tag in a comment of the module that uses it: paths relative to the
 * code root, files or directories, which then enter the fingerprint of every stage reaching it.
 *
 * A dynamic import whose specifier is not a string literal cannot be followed, so it is reported
 * (`opaque`) and the fingerprint refuses the module: a code fingerprint must be complete.
 *
 * The parse of every source file is also computed at build time (`scripts/build-stamp.mjs`
 * stores it in `dist/.build-stamp.json`, keyed by the file's sha256), so a run whose sources
 * match the build never loads the TypeScript compiler.
 */
import { createRequire } from 'node:module';
import type * as TS from 'typescript';

export interface ParsedImports {
  /** Specifiers of the module's runtime imports, in source order, without duplicates. */
  readonly imports: readonly string[];
  /** 1-based lines of dynamic imports whose specifier is not a string literal. */
  readonly opaque: readonly number[];
  /** Paths (relative to the code root) named by `@fingerprint` tags. */
  readonly tagged: readonly string[];
}

/** `@fingerprint a b` at the start of a comment line (after `*` or `//`). */
const TAG = /^\s*(?:\*|\/\/)?\s*@fingerprint\s+(.+?)\s*(?:\*\/)?$/gm;

let typescript: typeof TS | null = null;

/** The TypeScript compiler, loaded on first use (it takes about half a second). */
function ts(): typeof TS {
  typescript ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return typescript;
}

export function parseImports(text: string, fileName: string): ParsedImports {
  const t = ts();
  const source = t.createSourceFile(fileName, text, t.ScriptTarget.Latest, false);
  const imports: string[] = [];
  const opaque: number[] = [];
  const add = (node: TS.Node | undefined): void => {
    if (node && t.isStringLiteralLike(node) && !imports.includes(node.text)) imports.push(node.text);
  };
  const visit = (node: TS.Node): void => {
    if (t.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            t.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) add(node.moduleSpecifier);
      return;
    }
    if (t.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined && t.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) add(node.moduleSpecifier);
      return;
    }
    if (t.isCallExpression(node) && node.expression.kind === t.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && t.isStringLiteralLike(arg)) add(arg);
      else opaque.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    }
    if (t.isNewExpression(node) && t.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const [first, second] = node.arguments ?? [];
      if (first && t.isStringLiteralLike(first) && second && second.getText(source) === 'import.meta.url' && first.text.startsWith('.'))
        add(first);
    }
    // `typeof import('x')` in a type position is an ImportTypeNode, not a call: never runs.
    t.forEachChild(node, visit);
  };
  visit(source);
  const tagged: string[] = [];
  for (const match of text.matchAll(TAG)) for (const path of match[1].split(/\s+/)) if (path && !tagged.includes(path)) tagged.push(path);
  return { imports, opaque, tagged };
}
