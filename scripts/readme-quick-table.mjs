// Regenerates the table README.md quotes for `defrost run experiments/quick.yaml` (between the
// <!-- quick-table --> markers) from a fresh run; test/protocol-stability.test.ts fails while
// the quoted table differs from what a fresh run prints.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const store = mkdtempSync(join(tmpdir(), 'defrost-readme-'));
try {
  const defrost = async (...args) => (await $({ cwd: root })`${process.execPath} ${join(root, 'bin', 'defrost.js')} ${args} --store ${store}`).stdout;
  await defrost('run', 'experiments/quick.yaml', '--jobs', '2');
  const table = (await defrost('report', 'experiments/quick.yaml'))
    .split('\n')
    .filter((line) => !/^(Report|Report of this run|Run \S+ recorded)/.test(line))
    .join('\n')
    .trim();
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const marked = /<!-- quick-table -->\n```\n[\s\S]*?```\n<!-- \/quick-table -->/;
  if (!marked.test(text)) throw new Error('README.md has no <!-- quick-table --> block');
  writeFileSync(readme, text.replace(marked, `<!-- quick-table -->\n\`\`\`\n${table}\n\`\`\`\n<!-- /quick-table -->`));
  console.log('README.md: quick.yaml table regenerated');
} finally {
  rmSync(store, { recursive: true, force: true });
}
