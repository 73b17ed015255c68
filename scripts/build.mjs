// The build and its stamp (docs/architecture.md, "The code that runs is the code fingerprinted").
//
// `node scripts/build.mjs` (make build, npm run build) runs tsc, incrementally: tsconfig.json sets
// `incremental` with its record (`tsBuildInfoFile`) inside dist/, so tsc re-checks only the files
// an edit can affect and re-emits only those whose output changes, and deleting dist/ (make clean,
// a fresh clone) deletes the record with it. Type errors anywhere still fail the build and emit
// nothing (`noEmitOnError`). After a successful tsc it
// - removes the outputs of sources the previous build compiled and that are gone (tsc never
//   deletes an output, and a moved test would otherwise still run from dist/test/);
// - writes `dist/.build-stamp.json`: the sha256 of every TypeScript source the build compiled (the
//   directories of tsconfig.json's `include`) and the analysis of each source (its imports and
//   statements: pipeline/module-graph.ts), so the code fingerprint of a run whose sources match
//   the build never loads the TypeScript compiler.
//
// bin/defrost.js calls `ensureFreshBuild` before loading dist/: sources that differ from the
// stamp, or whose compiled output is missing, are rebuilt first (the same build), or, if that is
// impossible or refused (DEFROST_REBUILD=0), the command exits 2 naming the stale files and the
// command to run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const STAMP = join('dist', '.build-stamp.json');
/** The compiled module of a source: tsconfig.json's rootDir is the root, its outDir dist/. */
const outputOf = (source) => join('dist', source.replace(/\.ts$/, '.js'));

const readTsconfig = (root) => JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));

/** The source directories tsc compiles: the first segment of each `include` glob. */
function sourceDirs(root) {
  return [...new Set((readTsconfig(root).include ?? []).map((glob) => glob.split('/')[0]))].sort();
}

/**
 * A plain readdir walk, not fast-glob: this runs before every command, and loading fast-glob
 * alone takes 30-50 ms, longer than this whole check.
 */
function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'build' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
}

/** Every compiled source (and tsconfig.json) -> sha256, paths relative to the root with `/`. */
function sourceHashes(root) {
  const files = [join(root, 'tsconfig.json')];
  for (const dir of sourceDirs(root)) if (existsSync(join(root, dir))) walk(join(root, dir), files);
  const hashes = {};
  for (const file of files.sort())
    hashes[relative(root, file).split(sep).join('/')] = createHash('sha256').update(readFileSync(file)).digest('hex');
  return hashes;
}

function readStamp(root) {
  try {
    return JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return null;
  }
}

/** Sources whose compiled module is missing from dist/ (deleted by hand, or never built). */
function missingOutputs(root, sources) {
  return Object.keys(sources).filter((f) => f.endsWith('.ts') && !existsSync(join(root, outputOf(f))));
}

/**
 * Sources that differ from the stamp (changed, added or removed) or whose output is missing;
 * every source if there is no stamp.
 */
function staleSources(root) {
  const now = sourceHashes(root);
  const built = readStamp(root)?.sources;
  if (!built) return Object.keys(now);
  const stale = new Set(Object.keys(now).filter((f) => built[f] !== now[f]));
  for (const f of Object.keys(built)) if (!(f in now)) stale.add(f);
  for (const f of missingOutputs(root, now)) stale.add(f);
  return [...stale].sort();
}

/**
 * Writes the stamp for `sources`, the hashes taken before tsc read them: a source edited while tsc
 * ran then differs from its stamp and is rebuilt by the next command, never run stale. Each
 * source's analysis (its imports and statements: pipeline/module-graph.ts) is keyed by the sha256
 * of the bytes analysed; those of the previous stamp are carried over while the analyser is the
 * same (analysing every source takes longer than an incremental tsc).
 */
async function writeStamp(root, sources, previous) {
  const graph = await import(pathToFileURL(join(root, 'dist', 'pipeline', 'module-graph.js')).href);
  const analyser = graph.analyserIdentity();
  const carried = previous?.analyser === analyser ? (previous.modules ?? {}) : {};
  const modules = {};
  for (const [file, sha] of Object.entries(sources)) {
    // Tests and benchmarks are no stage's code: the fingerprint analyses them itself if ever asked.
    if (!file.endsWith('.ts') || /^(test|bench)\//.test(file)) continue;
    if (carried[sha]) {
      modules[sha] = carried[sha];
      continue;
    }
    const bytes = readFileSync(join(root, file));
    modules[createHash('sha256').update(bytes).digest('hex')] = graph.analyseModule(bytes.toString('utf8'), file);
  }
  const path = join(root, STAMP);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ format: 2, sources, analyser, modules })}\n`);
  renameSync(tmp, path);
}

/**
 * Removes the compiled module (and source map) of every source the previous build had and that is
 * gone, and the directories that leaves empty.
 */
function removeOrphans(root, sources, previous) {
  for (const f of Object.keys(previous?.sources ?? {})) {
    if (!f.endsWith('.ts') || f in sources) continue;
    for (const out of [outputOf(f), `${outputOf(f)}.map`]) rmSync(join(root, out), { force: true });
    for (let dir = dirname(join(root, outputOf(f))); dir !== join(root, 'dist'); dir = dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        break; // not empty (or already gone)
      }
    }
  }
}

const tscPath = (root) => join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * The build: incremental tsc, then the orphans and the stamp. `output: 'inherit'` shows tsc's
 * messages on the terminal; otherwise they are returned. Returns { ok, output }.
 */
export async function build(root, { output = 'pipe' } = {}) {
  const sources = sourceHashes(root);
  const previous = readStamp(root);
  // tsc's record says which outputs are up to date; an output deleted since (by hand) is only
  // rebuilt from no record at all. A source new since the last build has no output yet.
  const record = readTsconfig(root).compilerOptions?.tsBuildInfoFile;
  const built = (f) => !previous?.sources || f in previous.sources;
  if (record && missingOutputs(root, sources).some(built)) rmSync(join(root, record), { force: true });
  const r = spawnSync(process.execPath, [tscPath(root), '-p', join(root, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
    stdio: output === 'inherit' ? 'inherit' : 'pipe',
  });
  if (r.status !== 0) return { ok: false, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
  removeOrphans(root, sources, previous);
  await writeStamp(root, sources, previous);
  return { ok: true, output: '' };
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
  if (!existsSync(tscPath(root))) return `dist/ is older than its sources (${listing(stale)}) and TypeScript is not installed; run \`make setup\``;
  return withBuildLock(root, async () => {
    stale = staleSources(root); // another command may have rebuilt meanwhile
    if (stale.length === 0) return null;
    log(`defrost: dist/ is older than its sources (${listing(stale)}); rebuilding with tsc first`);
    const { ok, output } = await build(root);
    return ok ? null : `the rebuild failed (dist/ is older than ${listing(stale)}):\n${output}\nfix the errors and run \`${command}\``;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { ok } = await withBuildLock(root, () => build(root, { output: 'inherit' }));
  process.exitCode = ok ? 0 : 1;
}
