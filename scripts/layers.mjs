// The layers of stages/ (docs/architecture.md, "Layout"): one table, read by the eslint rule in
// eslint.config.js and by `node scripts/layers.mjs` (the import report: circles between folders
// and imports that run back up). Lower layers never import higher ones; a feature imports a lower
// feature's declarations, never its jobs (`*-job.ts`).
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The layers, lowest first. `lib/` holds the pure libraries; the top is the project itself. */
export const LAYERS = ['lib', 'config', 'data', 'training', 'similarity', 'prediction', 'recommend', 'report', 'top'];

/** The layer of a repository-relative path under stages/, or null outside stages/. */
export function layerOf(path) {
  const parts = path.split(/[\\/]/);
  if (parts[0] !== 'stages') return null;
  if (parts.length === 2) return 'top';
  if (parts[1] === 'types') return null;
  return LAYERS.includes(parts[1]) ? parts[1] : 'unknown';
}

/** The folder an import belongs to, for the circle count: `stages/lib/tables`, `stages/report`. */
export function folderOf(path) {
  return dirname(path).split(sep).join('/');
}

/**
 * Why importing `to` from `from` (both repository-relative .ts paths) breaks the layers, or null.
 */
export function layerViolation(from, to) {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === null || b === null) return null;
  if (b === 'unknown') return `${to} is in no layer of stages/ (${LAYERS.join(', ')})`;
  const ra = LAYERS.indexOf(a);
  const rb = LAYERS.indexOf(b);
  if (rb > ra) return `stages/${a === 'top' ? '' : a + '/'} may not import the higher layer ${b} (${to}); layers, lowest first: ${LAYERS.join(' < ')}`;
  if (a !== b && b !== 'lib' && b !== 'config' && /-job\.ts$/.test(to)) {
    return `a feature imports another feature's declarations, never its job (${to})`;
  }
  return null;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of a source file, as repository-relative .ts paths. */
export function importsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    out.push(normalize(join(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Import circles between folders (strongly connected components of more than one folder). */
export function folderCircles(edges) {
  const graph = new Map();
  for (const [a, b] of edges) {
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    graph.get(a).add(b);
  }
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const components = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return components;
}

/** The report over stages/: files, folder circles, and every import that breaks the layers. */
export async function layerReport(root) {
  const { default: fg } = await import('fast-glob');
  const files = (await fg('stages/**/*.ts', { cwd: root })).sort();
  const edges = [];
  const violations = [];
  for (const file of files) {
    for (const to of importsOf(root, file)) {
      if (!to.startsWith('stages/')) continue;
      edges.push([folderOf(file), folderOf(to)]);
      const why = layerViolation(file, to);
      if (why) violations.push({ from: file, to, why });
    }
  }
  return { files: files.length, folders: new Set(files.map(folderOf)).size, circles: folderCircles(edges), violations };
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const report = await layerReport(root);
  console.log(`stages/: ${report.files} files in ${report.folders} folders`);
  console.log(`import circles between folders: ${report.circles.length}`);
  for (const c of report.circles) console.log(`  ${c.join(' <-> ')}`);
  console.log(`imports that break the layers: ${report.violations.length}`);
  for (const v of report.violations) console.log(`  ${v.from} -> ${v.to}: ${v.why}`);
  process.exitCode = report.circles.length + report.violations.length > 0 ? 1 : 0;
}
