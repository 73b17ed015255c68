/**
 * The meaning of a source file, as the code fingerprint sees it (docs/architecture.md, "Code
 * fingerprints"): its text minus what cannot change what a stage computes.
 *
 * - TypeScript's own transpile (`transpileModule`) removes types, type-only imports and
 *   comments: they never run.
 * - Three kinds of text are blanked before that, because by the engine's contract they only
 *   ever reach a person, never an output: the arguments of `.describe(...)` (zod help strings,
 *   read by docs generators and `--help`); the arguments of an error's construction — `throw new
 *   X(...)`, and `new XError(...)` anywhere — (a failed stage publishes nothing, and messages go
 *   to the user and the log); and the `description` of a stage declaration (an object literal
 *   with `name`, `description` and `module`: one line for `--help`, `dag` and `status`).
 *   Blanking replaces the text of those arguments — their strings and template texts, also
 *   where joined with `+` or chosen by `? :`, `??`, `||` — with `''` and keeps every other
 *   expression (a call, a condition, a value shown in the message), so what they evaluate, and
 *   any side effect, still counts.
 * - What is left is compared as a sequence of tokens, so layout, quotes and number spelling do
 *   not count (`statementDigest`).
 */
import { createHash } from 'node:crypto';
import type * as TS from 'typescript';

/** Options of the normalising transpile: fixed here, so no fingerprint depends on tsconfig.json. */
function transpileOptions(t: typeof TS): TS.CompilerOptions {
  return { target: t.ScriptTarget.ESNext, module: t.ModuleKind.ESNext, removeComments: true, sourceMap: false, declaration: false };
}

/** The source as JavaScript, without comments or types, with help strings and messages blanked. */
export function meaningfulJavaScript(t: typeof TS, text: string, fileName: string): string {
  return t.transpileModule(text, {
    fileName,
    compilerOptions: transpileOptions(t),
    reportDiagnostics: false,
    transformers: { before: [blankText(t)] },
  }).outputText;
}

/** `new XError(...)`: an error being made (`throw new X(...)` is recognised at the throw). */
function constructsError(t: typeof TS, node: TS.NewExpression): boolean {
  return t.isIdentifier(node.expression) && /Error$/.test(node.expression.text);
}

function isHelpCall(t: typeof TS, node: TS.CallExpression): boolean {
  return t.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'describe';
}

/** An object literal shaped like a stage declaration (pipeline/stage.ts): name, description, module. */
function isStageDeclaration(t: typeof TS, node: TS.ObjectLiteralExpression): boolean {
  const names = new Set(node.properties.map((p) => (p.name !== undefined && t.isIdentifier(p.name) ? p.name.text : '')));
  return names.has('name') && names.has('description') && names.has('module');
}

/** The transformer that blanks the text of help strings and error messages. */
function blankText(t: typeof TS): TS.TransformerFactory<TS.SourceFile> {
  return (context) => {
    const f = context.factory;
    /**
     * The text of a message blanked: its strings, template texts and the strings it joins with
     * `+`, chooses between (`? :`, `??`, `||`) or parenthesises; every other expression is kept.
     */
    const blank = (node: TS.Expression): TS.Expression => {
      if (t.isStringLiteral(node) || t.isNoSubstitutionTemplateLiteral(node)) return f.createStringLiteral('');
      if (t.isTemplateExpression(node))
        return f.updateTemplateExpression(
          node,
          f.createTemplateHead('', ''),
          node.templateSpans.map((span) =>
            f.updateTemplateSpan(
              span,
              span.expression,
              t.isTemplateTail(span.literal) ? f.createTemplateTail('', '') : f.createTemplateMiddle('', ''),
            ),
          ),
        );
      if (t.isParenthesizedExpression(node)) return f.updateParenthesizedExpression(node, blank(node.expression));
      if (t.isConditionalExpression(node))
        return f.updateConditionalExpression(
          node,
          node.condition,
          node.questionToken,
          blank(node.whenTrue),
          node.colonToken,
          blank(node.whenFalse),
        );
      const joins = [t.SyntaxKind.PlusToken, t.SyntaxKind.QuestionQuestionToken, t.SyntaxKind.BarBarToken];
      if (t.isBinaryExpression(node) && joins.includes(node.operatorToken.kind))
        return f.updateBinaryExpression(node, blank(node.left), node.operatorToken, blank(node.right));
      return node;
    };
    const blankArguments = (node: TS.NewExpression): TS.NewExpression =>
      f.updateNewExpression(node, node.expression, node.typeArguments, node.arguments?.map(blank));
    const visit = (node: TS.Node): TS.Node => {
      if (t.isCallExpression(node) && isHelpCall(t, node))
        return f.updateCallExpression(
          node,
          t.visitNode(node.expression, visit) as TS.Expression,
          node.typeArguments,
          node.arguments.map(blank),
        );
      if (t.isThrowStatement(node) && t.isNewExpression(node.expression))
        return f.updateThrowStatement(node, blankArguments(node.expression));
      if (t.isNewExpression(node) && constructsError(t, node)) return blankArguments(node);
      if (t.isObjectLiteralExpression(node) && isStageDeclaration(t, node))
        return f.updateObjectLiteralExpression(
          node,
          node.properties.map((p) =>
            t.isPropertyAssignment(p) && t.isIdentifier(p.name) && p.name.text === 'description'
              ? f.updatePropertyAssignment(p, p.name, blank(p.initializer))
              : (t.visitNode(p, visit) as TS.ObjectLiteralElementLike),
          ),
        );
      return t.visitEachChild(node, visit, context);
    };
    return (file) => t.visitEachChild(file, visit, context);
  };
}

/** Kinds whose token text is their value (names and literals); other tokens are their kind. */
function tokenText(t: typeof TS, node: TS.Node): string {
  if (t.isIdentifier(node) || t.isPrivateIdentifier(node)) return JSON.stringify(node.text);
  if (t.isLiteralExpression(node) || t.isTemplateLiteralToken(node)) {
    const raw = t.isTemplateLiteralToken(node) ? (node.rawText ?? '') : '';
    return `${JSON.stringify(node.text)}${JSON.stringify(raw)}`;
  }
  return '';
}

/**
 * A digest of one statement of the transpiled JavaScript: its tokens (kind, and the value of
 * names and literals), so how the text is laid out (lines, indentation, quotes, trailing commas)
 * does not count.
 */
export function statementDigest(t: typeof TS, statement: TS.Node, source: TS.SourceFile): string {
  const tokens: string[] = [];
  const walk = (node: TS.Node): void => {
    const children = node.getChildren(source);
    if (children.length === 0) tokens.push(`${node.kind}${tokenText(t, node)}`);
    // A trailing comma of a list means nothing (an elision before it is a node of its own).
    const last =
      node.kind === t.SyntaxKind.SyntaxList && children.at(-1)?.kind === t.SyntaxKind.CommaToken ? children.length - 1 : children.length;
    for (let i = 0; i < last; i++) walk(children[i]);
  };
  walk(statement);
  return createHash('sha256').update(tokens.join(' ')).digest('hex').slice(0, 32);
}
