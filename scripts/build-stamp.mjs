// The build stamp (docs/architecture.md, "The code that runs is the code fingerprinted"):
// `dist/.build-stamp.json` records the sha256 of every TypeScript source the build compiled (the
// directories of tsconfig.json's `include`) and the analysis of each source (its imports and
// statements: pipeline/module-graph.ts), so the code fingerprint of a run whose sources match the
// build never loads the TypeScript compiler. Analyses of unchanged sources are carried over.
//
// `node scripts/build-stamp.mjs` writes it after `tsc` (make build, npm run build).
// bin/defrost.js calls `ensureFreshBuild` before loading dist/: sources that differ from the
// stamp are rebuilt first (tsc, then a new stamp), or, if that is impossible or refused
// (DEFROST_REBUILD=0), the command exits 2 naming the stale files and the command to run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const STAMP = join('dist', '.build-stamp.json');

/** The source directories tsc compiles: the first segment of each `include` glob. */
function sourceDirs(root) {
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  return [...new Set((tsconfig.include ?? []).map((glob) => glob.split('/')[0]))].sort();
}

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'build' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
}

/** Every compiled source (and tsconfig.json) -> sha256, paths relative to the root with `/`. */
export function sourceHashes(root) {
  const files = [join(root, 'tsconfig.json')];
  for (const dir of sourceDirs(root)) if (existsSync(join(root, dir))) walk(join(root, dir), files);
  const hashes = {};
  for (const file of files.sort())
    hashes[relative(root, file).split(sep).join('/')] = createHash('sha256').update(readFileSync(file)).digest('hex');
  return hashes;
}

/** Sources that differ from the stamp (changed, added or removed); every source if no stamp. */
export function staleSources(root) {
  const now = sourceHashes(root);
  let built = {};
  try {
    built = JSON.parse(readFileSync(join(root, STAMP), 'utf8')).sources ?? {};
  } catch {
    return Object.keys(now);
  }
  const stale = Object.keys(now).filter((f) => built[f] !== now[f]);
  for (const f of Object.keys(built)) if (!(f in now)) stale.push(f);
  return stale.sort();
}

/** Writes the stamp for the sources as they are now (call right after a successful tsc). */
export async function writeStamp(root) {
  const sources = sourceHashes(root);
  const graph = await import(pathToFileURL(join(root, 'dist', 'pipeline', 'module-graph.js')).href);
  const analyser = graph.analyserIdentity();
  const path = join(root, STAMP);
  let previous = {};
  try {
    const old = JSON.parse(readFileSync(path, 'utf8'));
    if (old.analyser === analyser) previous = old.modules ?? {};
  } catch {
    // No stamp yet (or an unreadable one): analyse every source.
  }
  // Tests and benchmarks are no stage's code: the fingerprint analyses them itself if ever asked.
  const modules = {};
  for (const [file, sha] of Object.entries(sources))
    if (file.endsWith('.ts') && !/^(test|bench)\//.test(file)) modules[sha] = previous[sha] ?? graph.analyseModule(readFileSync(join(root, file), 'utf8'), file);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ format: 2, sources, analyser, modules })}\n`);
  renameSync(tmp, path);
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One rebuild at a time: concurrent commands wait for it instead of compiling together. */
async function withBuildLock(root, fn) {
  const lock = join(root, 'dist', '.rebuild-lock');
  mkdirSync(dirname(lock), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 10 minutes belongs to a dead rebuild.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function listing(files) {
  return files.length <= 5 ? files.join(', ') : `${files.slice(0, 5).join(', ')} and ${files.length - 5} more`;
}

/**
 * Makes sure dist/ was built from the sources as they are. Returns null when it was (or has
 * been rebuilt now), else the message for an exit with code 2.
 */
export async function ensureFreshBuild(root, { log = (line) => process.stderr.write(`${line}\n`), env = process.env } = {}) {
  // An installation without TypeScript sources (only dist/) has nothing to compare.
  if (!existsSync(join(root, 'tsconfig.json'))) return null;
  let stale = staleSources(root);
  if (stale.length === 0) return null;
  const command = 'make build';
  if (env.DEFROST_REBUILD === '0')
    return `dist/ is older than its sources (${listing(stale)}); run \`${command}\` first (DEFROST_REBUILD=0 forbids rebuilding here)`;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return `dist/ is older than its sources (${listing(stale)}) and TypeScript is not installed; run \`make setup\``;
  let failure = null;
  await withBuildLock(root, async () => {
    stale = staleSources(root); // another command may have rebuilt meanwhile
    if (stale.length === 0) return;
    log(`defrost: dist/ is older than its sources (${listing(stale)}); rebuilding with tsc first`);
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) {
      failure = `the rebuild failed (dist/ is older than ${listing(stale)}):\n${(r.stdout + r.stderr).trim()}\nfix the errors and run \`${command}\``;
      return;
    }
    await writeStamp(root);
  });
  return failure;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  await writeStamp(root);
}
