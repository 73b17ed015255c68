// Lint rules for the TypeScript sources (typescript-eslint's recommended set, without type
// information so `make test` stays fast). `any` is banned in public interfaces by
// `no-explicit-any`; unused variables are errors unless prefixed with `_`.
// `defrost/layers` enforces the layers of stages/ (docs/architecture.md, "Layout"): the table of
// layers and the rule itself are in scripts/layers.mjs, which `node scripts/layers.mjs` also reads.
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerViolation } from './scripts/layers.mjs';

const root = dirname(fileURLToPath(import.meta.url));

/** Reports every relative import (static, dynamic, re-export, worker URL) that breaks the layers. */
const layersRule = {
  meta: { type: 'problem', docs: { description: 'imports follow the layers of stages/' }, schema: [] },
  create(context) {
    const from = relative(root, context.filename).split('\\').join('/');
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = normalize(join(dirname(from), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      const why = layerViolation(from, to);
      if (why) context.report({ node, message: why });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      NewExpression: (node) =>
        node.callee.type === 'Identifier' &&
        node.callee.name === 'URL' &&
        node.arguments[0]?.type === 'Literal' &&
        check(node, node.arguments[0].value),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'artifacts/**', 'native/build/**', 'test/out/**', 'bench/out/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { defrost: { rules: { layers: layersRule } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'defrost/layers': 'error',
    },
  },
);
