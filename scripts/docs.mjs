#!/usr/bin/env node
// Writes the generated docs (`make docs`, after `make build`): docs/config.md from the zod config
// schema, docs/tables.md from the table declarations, and the registries' tables in
// docs/similarity.md and docs/science.md (stages/registry-docs.ts). With --check it writes nothing
// and exits 1 when one is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../dist/stages/config-docs.js';
import { GENERATED_TABLES, withGeneratedTables } from '../dist/stages/registry-docs.js';
import { renderTableDocs } from '../dist/stages/table-docs.js';

const root = new URL('../', import.meta.url);
const read = (file) => {
  try {
    return readFileSync(fileURLToPath(new URL(file, root)), 'utf8');
  } catch {
    return ''; // missing counts as stale
  }
};
const files = new Map([
  ['docs/config.md', { render: () => renderConfigDocs(), from: 'the config schema' }],
  ['docs/tables.md', { render: () => renderTableDocs(), from: 'the table declarations' }],
]);
for (const { file } of GENERATED_TABLES)
  files.set(file, { render: () => withGeneratedTables(file, read(file)), from: 'a registry' });

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, { render, from }] of files) {
  const text = render();
  if (read(file) === text) continue;
  if (check) {
    console.error(`${file} is stale (${from} changed). Run \`make docs\` and commit ${file}.`);
    stale++;
  } else {
    writeFileSync(fileURLToPath(new URL(file, root)), text);
    console.log(`wrote ${file}`);
  }
}
if (check && stale === 0) console.log('the generated docs are up to date');
process.exitCode = stale > 0 ? 1 : 0;
