#!/usr/bin/env node
// Writes docs/config.md from the zod config schema (`make docs`, after `make build`).
// With --check it writes nothing and exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../dist/stages/config-docs.js';

const target = fileURLToPath(new URL('../docs/config.md', import.meta.url));
const text = renderConfigDocs();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error('docs/config.md is stale (the config schema changed). Run `make docs` and commit docs/config.md.');
    process.exit(1);
  }
  console.log('docs/config.md is up to date');
} else {
  writeFileSync(target, text);
  console.log('wrote docs/config.md');
}
