/**
 * The documentation a user reads: docs/config.md must be exactly what the zod schema renders and
 * the registries' tables exactly what the registries render (a stale page fails CI and says which
 * command regenerates it), the README stays short, and every page the README links to within
 * docs/ that exists is reachable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DOCS_COMMAND, renderConfigDocs } from '../stages/config-docs.js';
import { defrostProject } from '../stages/project.js';
import { configSchema } from '../stages/config/schema.js';
import { allMeasures } from '../stages/lib/measures/registry.js';
import { allTransferModes } from '../stages/lib/models/transfer-modes/registry.js';
import { GENERATED_TABLES, withGeneratedTables } from '../stages/registry-docs.js';

const root = defrostProject.codeRoot;

test('docs/config.md is what the config schema renders', () => {
  const committed = readFileSync(join(root, 'docs', 'config.md'), 'utf8');
  assert.ok(
    committed === renderConfigDocs(),
    `docs/config.md is stale (the config schema in stages/config/schema.ts changed). Run \`${CONFIG_DOCS_COMMAND}\` and commit docs/config.md.`,
  );
});

test('docs/config.md lists every key of every section, with defaults', () => {
  const text = renderConfigDocs();
  for (const section of Object.keys(configSchema.shape)) assert.match(text, new RegExp('`' + section + '`'), section);
  assert.match(text, /\| `train\.learning_rate` \| number > 0 or list of number > 0 \(at least 1\) \| `0\.001` \|/);
  assert.match(text, /\| `task\.kind` \| `"image"` \| \*required\* \|/);
  assert.match(text, /`resources\.<stage>\.mem`/);
});

test("the registries' tables in docs/ are what the registries render", () => {
  for (const { file } of GENERATED_TABLES) {
    const committed = readFileSync(join(root, file), 'utf8');
    assert.ok(
      committed === withGeneratedTables(file, committed),
      `${file} is stale (a registry changed). Run \`${CONFIG_DOCS_COMMAND}\` and commit ${file}.`,
    );
  }
});

test('every measure and mode has its row, and docs/config.md points to the tables instead of listing the names', () => {
  const similarity = readFileSync(join(root, 'docs', 'similarity.md'), 'utf8');
  for (const m of allMeasures()) {
    const row = similarity.split('\n').find((line) => line.startsWith(`| \`${m.name}\` |`));
    for (const value of m.values) assert.ok(row?.includes(`\`${value.name}\``), `${m.name}: ${value.name}`);
  }
  const science = readFileSync(join(root, 'docs', 'science.md'), 'utf8');
  for (const mode of allTransferModes()) {
    const row = science.split('\n').find((line) => line.startsWith(`| \`${mode.name}\``));
    assert.ok(row?.includes(`| ${mode.caption} |`), mode.name);
  }
  const config = renderConfigDocs();
  assert.match(
    config,
    /\| `similarity\.measures` \| list of measure names \(docs\/similarity\.md#measures, at least 1\) \| every measure \|/,
  );
  assert.match(
    config,
    /\| `transfer\.modes` \| list of transfer mode names \(docs\/science\.md#transfer-modes, at least 1\) \| `\["defrost"\]` \|/,
  );
  assert.doesNotMatch(config, /"rbf_cka"|"reinit"|`train-scratch`/);
});

test('the README is short and has a contents list', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(statSync(join(root, 'README.md')).size <= 15 * 1024, `README.md is ${statSync(join(root, 'README.md')).size} bytes`);
  assert.match(readme, /^## Contents$/m);
  for (const heading of ['Install', 'First run', 'Reading the answer', 'Your own data', 'Cluster runs', 'Commands']) {
    assert.match(readme, new RegExp(`^## ${heading}`, 'm'), heading);
  }
});

test('code and docs cite docs/ pages, not a specification outside the repository', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /\bSPEC\b/);
  for (const page of ['science', 'config', 'engine', 'reliability', 'backends', 'data', 'training', 'similarity', 'slurm', 'report']) {
    assert.ok(statSync(join(root, 'docs', `${page}.md`)).isFile(), page);
    assert.doesNotMatch(readFileSync(join(root, 'docs', `${page}.md`), 'utf8'), /\bSPEC \d/, page);
  }
  const outside = new RegExp(['SPEC', '(\\d|section)'].join(' '));
  for (const dir of ['stages', 'pipeline', 'test', 'bench', 'experiments']) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|yaml|py)$/.test(file)) continue;
      assert.doesNotMatch(readFileSync(join(root, dir, file), 'utf8'), outside, `${dir}/${file}`);
    }
  }
});

test("the README's quoted default-study answer agrees with docs/protocol.md's measured l* table", () => {
  // Both quote one run of experiments/default.yaml; scripts/protocol-check.mjs checks the README's
  // block line by line against a fresh run (minutes of training), this keeps the two pages one answer.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /<!-- default-answer -->\n```\n([\s\S]*?)```\n<!-- \/default-answer -->/.exec(readme)?.[1];
  assert.ok(block, 'README.md quotes the default study between <!-- default-answer --> markers');
  const quoted = new Map<string, string>();
  let mode = '';
  let sizes: string[] = [];
  for (const line of block.split('\n')) {
    const head = /^ {2}mode (\S+)\s+(n=.*)$/.exec(line);
    if (head)
      [mode, sizes] = [
        head[1],
        head[2]
          .trim()
          .split(/\s+/)
          .map((n) => n.slice(2)),
      ];
    const row = /^ {2}ρ=(\S+)\s+(.*)$/.exec(line);
    if (row && /^\d/.test(row[2]))
      [...row[2].matchAll(/(\d) \{([\d,]+)\}/g)].forEach((cell, i) =>
        quoted.set(`${row[1]}|${sizes[i]}|${mode}`, `${cell[1]} {${cell[2]}}`),
      );
  }
  const measured = new Map<string, string>();
  for (const m of readFileSync(join(root, 'docs', 'protocol.md'), 'utf8').matchAll(
    /^\| ([\d.]+) \| (\d+) \| (\w+) \| (\d \{[\d,]+\}) \|/gm,
  ))
    measured.set(`${m[1]}|${m[2]}|${m[3]}`, m[4]);
  assert.equal(quoted.size, 24, "the README's l* at a glance has the default study's 24 cells");
  assert.deepEqual(quoted, measured);
});
