/**
 * Hostile store shapes for `make chaos` (issue 18; docs/reliability.md): planted between the kills
 * of a cycle, each must leave zero escapes (nothing outside the store written, moved or deleted),
 * zero hangs (every command ends within 30 s), zero stack traces, and — checked at the end of the
 * cycle against the reference store — zero poisoned results.
 *
 *   edited plan        a plan record's params edited (and its instance deleted, so it must be
 *                      recomputed): it must be refused and rewritten from the config;
 *   foreign directory  commands pointed at a directory that is not a store (a thesis, notes) must
 *                      refuse; a foreign directory inside a stage directory must be left alone;
 *   symlinked dir      one of the store's own directories replaced by a symlink out of it (to a
 *                      sentinel directory holding look-alike records): refused, never followed;
 *   FIFO               a FIFO as a published manifest, as a run record and as a lock: nothing blocks;
 *   look-alike store   (issue 27) a directory with a store's layout but nothing of defrost's
 *                      (`projects/<16 hex>/thesis.tex`) given as the store: refused, untouched; the
 *                      same planted under a stage of the real store: moved aside, never deleted;
 *   export via link    `export --out` naming a symlink to a published file or to the store mark:
 *                      refused; a hard link to a published file: replaced, the published bytes kept;
 *   damaged run record a truncated run record: `gc --yes` keeps every instance;
 *   tampered run record escape sequences and 200,000 params in a run record: `runs`, `runs show`,
 *                      `runs diff` print it escaped and bounded.
 * The symlinked internal directories include `.run-records`, `.results` and a dot-folder no
 * defrost uses yet.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BIN, type Sandbox } from '../../test/engine-helpers.js';
import { entries, SMALL_SWEEP, SWEEP_CONFIG } from '../../test/reliability-helpers.js';

export const SHAPES = [
  'edited plan',
  'foreign directory',
  'symlinked internal dir',
  'FIFO',
  'look-alike store',
  'export via link',
  'damaged run record',
  'tampered run record',
] as const;
export type Shape = (typeof SHAPES)[number];

/** What a planted shape needs undone or checked once the cycle's final run is over. */
export interface Planted {
  readonly shape: Shape;
  readonly detail: string;
  /** Checks after the final run; returns problems (empty when survived). */
  after(): string[];
}

type Recorder = (kind: string, ok: boolean, detail: string) => void;

const LIMIT_MS = 30_000;
const TRACE = /internal error|\n\s+at \S+ \(/;

/** Runs the CLI with a 30-s limit; records a hang or a stack trace. */
function command(box: Sandbox, args: readonly string[], record: Recorder): { code: number | null; out: string } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: box.dir, env: box.env, encoding: 'utf8', timeout: LIMIT_MS });
  const seconds = (Date.now() - started) / 1000;
  const hung = r.error !== undefined || (r.status === null && r.signal === 'SIGTERM' && seconds >= LIMIT_MS / 1000 - 1);
  record('hostile: command ends within 30 s', !hung, `${args.join(' ')} took ${seconds.toFixed(1)} s`);
  record('hostile: no stack trace', !TRACE.test(r.stderr ?? ''), `${args.join(' ')}: ${(r.stderr ?? '').slice(0, 300)}`);
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Every path under `dir` with its size and mtime: an escape changes this listing. */
export function snapshot(dir: string): string {
  if (!existsSync(dir)) return '';
  return execFileSync('find', [dir, '-printf', '%p %y %s %T@\n'], { encoding: 'utf8' }).split('\n').sort().join('\n');
}

/** A sentinel directory outside the store, with files a careless engine might touch. */
function sentinel(dir: string): void {
  mkdirSync(join(dir, 'notes', '0123456789abcdef'), { recursive: true });
  writeFileSync(join(dir, 'thesis.tex'), '\\chapter{One}\n');
  writeFileSync(join(dir, 'notes', '0123456789abcdef', 'draft.txt'), 'keep me\n');
  // Looks like a dead run's record and a stale lock: must never be deleted through a link.
  writeFileSync(
    join(dir, 'old-run.json'),
    JSON.stringify({ owner: { host: hostname(), pid: 2 ** 30, started: '', run: 'x' }, instances: [] }),
  );
  writeFileSync(join(dir, 'ffffffffffffffff.lock'), JSON.stringify({ host: hostname(), pid: 2 ** 30, started: '', run: 'x' }));
}

const runArgs = (store: string): string[] => ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--store', store];

const publishedOf = (store: string, stage: string): string[] =>
  existsSync(join(store, stage)) ? readdirSync(join(store, stage)).filter((k) => existsSync(join(store, stage, k, 'manifest.json'))) : [];

/** Plants `shape` in `store` (outside sentinel under `outside`), runs the hostile commands, returns what to check later. */
export function plantHostile(
  box: Sandbox,
  store: string,
  outside: string,
  shape: Shape,
  pick: <T>(items: readonly T[]) => T,
  record: Recorder,
): Planted {
  // A cycle's run may have been killed before it made the store: start it, so that what is
  // planted lands in a store (planted into a bare directory, it would rightly make it foreign).
  if (!existsSync(join(store, '.defrost-store'))) command(box, ['init', '--store', store], record);
  sentinel(outside);
  const outsideBefore = snapshot(outside);
  const escapes = (): string[] => (snapshot(outside) === outsideBefore ? [] : [`something outside the store changed under ${outside}`]);
  const probe = (): void => {
    for (const args of [
      ['verify', '--store', store],
      ['status', SWEEP_CONFIG, ...SMALL_SWEEP, '--store', store],
      ['gc', SWEEP_CONFIG, '--dry-run', '--store', store],
    ])
      command(box, args, record);
  };
  switch (shape) {
    case 'edited plan': {
      const stage = pick(['make-numbers', 'square', 'sum']);
      const plans = join(store, '.plans', stage);
      const keys = existsSync(plans) ? readdirSync(plans).filter((n) => /^[0-9a-f]{16}\.json$/.test(n)) : [];
      if (keys.length === 0) return { shape, detail: 'no plan record yet', after: escapes };
      const name = pick(keys);
      const file = join(plans, name);
      const plan = JSON.parse(readFileSync(file, 'utf8')) as { params: { [k: string]: unknown } };
      plan.params = { ...plan.params, square: { offset: 1e9 }, injected: 'poison' };
      writeFileSync(file, JSON.stringify(plan));
      rmSync(join(store, stage, name.slice(0, 16)), { recursive: true, force: true });
      const ex = command(box, ['exec', stage, name.slice(0, 16), '--store', store], record);
      record('hostile: edited plan refused by exec', ex.code === 2, ex.out.slice(0, 300));
      probe();
      return { shape, detail: `${stage}/${name}`, after: escapes };
    }
    case 'foreign directory': {
      // Next to the sentinel, not inside it: its own snapshot.
      const foreign = `${outside}-home`;
      mkdirSync(join(foreign, 'data', '00000000deadbeef'), { recursive: true });
      writeFileSync(join(foreign, 'paper.tex'), 'draft\n');
      const before = snapshot(foreign);
      for (const args of [
        runArgs(foreign),
        ['gc', SWEEP_CONFIG, '--yes', '--keep-last', '0', '--store', foreign],
        ['make', SWEEP_CONFIG, '--store', foreign],
      ]) {
        const r = command(box, args, record);
        record(
          'hostile: foreign directory refused',
          r.code === 2 && /not a defrost store/.test(r.out),
          `${args[0]}: exit ${r.code}: ${r.out.slice(0, 200)}`,
        );
      }
      record('hostile: foreign directory untouched', snapshot(foreign) === before, foreign);
      // Inside the store: a directory that is not an instance key is not defrost's to delete.
      const inside = join(store, 'square', 'my-notes');
      mkdirSync(inside, { recursive: true });
      writeFileSync(join(inside, 'idea.txt'), 'keep\n');
      command(box, runArgs(store), record);
      command(box, ['gc', SWEEP_CONFIG, '--yes', '--keep-last', '0', '--store', store], record);
      record('hostile: foreign directory inside a stage left alone', existsSync(join(inside, 'idea.txt')), inside);
      rmSync(inside, { recursive: true, force: true });
      return { shape, detail: foreign, after: escapes };
    }
    case 'symlinked internal dir': {
      const name = pick(['.runs', '.quarantine', '.reports', '.logs', '.plans', '.locks', '.tmp', '.run-records', '.results', '.future']);
      const link = join(store, name);
      const aside = join(store, `${name}-aside`);
      mkdirSync(store, { recursive: true });
      const hadReal = existsSync(link);
      if (hadReal) renameSync(link, aside);
      symlinkSync(outside, link);
      // A damaged instance gives the run something to move (to a symlinked .quarantine).
      const victim = publishedOf(store, 'square')[0];
      if (victim) writeFileSync(join(store, 'square', victim, 'manifest.json'), '{ "truncated": ');
      const r = command(box, runArgs(store), record);
      // Refused where the run needs the directory (naming the link); a run that never needs it may finish.
      record(
        'hostile: symlinked dir refused or unused',
        r.code === 0 || /symbolic link/.test(r.out),
        `${name}: exit ${r.code}: ${r.out.slice(-300)}`,
      );
      command(box, ['gc', SWEEP_CONFIG, '--yes', '--keep-last', '0', '--store', store], record);
      probe();
      const problems = escapes();
      rmSync(link);
      if (hadReal) renameSync(aside, link);
      return { shape, detail: name, after: () => problems };
    }
    case 'FIFO': {
      const victims = publishedOf(store, 'square');
      if (victims.length > 0) {
        const manifest = join(store, 'square', pick(victims), 'manifest.json');
        rmSync(manifest);
        execFileSync('mkfifo', [manifest]);
      }
      mkdirSync(join(store, '.runs'), { recursive: true });
      execFileSync('mkfifo', [join(store, '.runs', 'fifo.json')]);
      mkdirSync(join(store, '.locks'), { recursive: true });
      execFileSync('mkfifo', [join(store, '.locks', 'abcdefabcdefabcd.lock')]);
      probe();
      command(box, ['ls', '--store', store], record);
      return { shape, detail: `${victims.length > 0 ? 'manifest, ' : ''}run record, lock`, after: escapes };
    }
    case 'look-alike store': {
      const home = `${outside}-lookalike`;
      mkdirSync(join(home, 'projects', '0123456789abcdef'), { recursive: true });
      writeFileSync(join(home, 'projects', '0123456789abcdef', 'thesis.tex'), '\\chapter{One}\n');
      const before = snapshot(home);
      for (const args of [runArgs(home), ['gc', '--yes', '--store', home], ['init', '--store', home]]) {
        const r = command(box, args, record);
        record('hostile: look-alike store refused', r.code === 2 && /not a defrost store/.test(r.out), `${args[0]}: exit ${r.code}`);
      }
      record('hostile: look-alike store untouched', snapshot(home) === before, home);
      const planted = join(store, 'square', '0123456789abcdef');
      mkdirSync(planted, { recursive: true });
      writeFileSync(join(planted, 'thesis.tex'), 'keep me\n');
      command(box, runArgs(store), record);
      const quarantined = entries(store, '.quarantine').filter((n) => n.startsWith('square-0123456789abcdef-'));
      const kept =
        existsSync(join(planted, 'thesis.tex')) || quarantined.some((n) => existsSync(join(store, '.quarantine', n, 'thesis.tex')));
      record("hostile: a directory not defrost's is never deleted", kept, planted);
      rmSync(planted, { recursive: true, force: true });
      return { shape, detail: home, after: escapes };
    }
    case 'export via link': {
      const dir = `${outside}-export`;
      mkdirSync(dir, { recursive: true });
      const keys = publishedOf(store, 'square');
      if (keys.length === 0) return { shape, detail: 'nothing published yet', after: escapes };
      const key = pick(keys);
      const published = join(store, 'square', key, 'out.arrow');
      const mark = join(store, '.defrost-store');
      const bytes = (path: string): string => (existsSync(path) ? readFileSync(path).toString('base64') : '');
      const before = [bytes(published), bytes(mark)];
      symlinkSync(published, join(dir, 'result.csv'));
      symlinkSync(mark, join(dir, 'mark.csv'));
      for (const name of ['result.csv', 'mark.csv']) {
        const r = command(box, ['export', key, '--format', 'csv', '--out', join(dir, name), '--store', store], record);
        record('hostile: export never writes through a link', r.code === 2 && /symbolic link/.test(r.out), `${name}: exit ${r.code}`);
      }
      linkSync(published, join(dir, 'hard.csv'));
      const hard = command(box, ['export', key, '--format', 'csv', '--out', join(dir, 'hard.csv'), '--store', store], record);
      record('hostile: export replaces a hard link', hard.code === 0, `exit ${hard.code}: ${hard.out.slice(0, 200)}`);
      const problems = [bytes(published), bytes(mark)].join() === before.join() ? [] : ['export changed a published file or the mark'];
      return { shape, detail: key, after: () => [...problems, ...escapes()] };
    }
    case 'damaged run record': {
      command(box, runArgs(store), record);
      const records = entries(store, '.run-records').filter((n) => n.endsWith('.json'));
      if (records.length === 0) return { shape, detail: 'no run record', after: escapes };
      const file = join(store, '.run-records', pick(records));
      const saved = readFileSync(file);
      truncateSync(file, Math.floor(saved.length / 3));
      const before = ['make-numbers', 'square', 'sum'].flatMap((s) => publishedOf(store, s));
      const gc = command(box, ['gc', '--yes', '--store', store], record);
      const after = ['make-numbers', 'square', 'sum'].flatMap((s) => publishedOf(store, s));
      record(
        'hostile: damaged run record protects everything',
        after.join() === before.join() && /kept everything/.test(gc.out),
        gc.out.slice(0, 300),
      );
      writeFileSync(file, saved);
      return { shape, detail: file, after: escapes };
    }
    case 'tampered run record': {
      command(box, runArgs(store), record);
      const records = entries(store, '.run-records').filter((n) => n.endsWith('.json'));
      if (records.length === 0) return { shape, detail: 'no run record', after: escapes };
      const real = JSON.parse(readFileSync(join(store, '.run-records', pick(records)), 'utf8')) as Record<string, unknown>;
      const evil = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\r';
      const params: Record<string, string> = { [`key${evil}`]: evil };
      for (let i = 0; i < 200_000; i++) params[`p${i}`] = `${i}`;
      const id = '20000101-000000-0bad';
      const file = join(store, '.run-records', `${id}.json`);
      writeFileSync(file, JSON.stringify({ ...real, id, date: '2000-01-01T00:00:00.000Z', config: `x${evil}`, overrides: [evil], params }));
      for (const args of [['runs'], ['runs', 'show', id], ['runs', 'diff', id, 'last']]) {
        const r = command(box, [...args, '--store', store], record);
        // eslint-disable-next-line no-control-regex
        const clean = r.code === 0 && !/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(r.out) && r.out.split('\n').length < 2000;
        record('hostile: run record text escaped and bounded', clean, `${args.join(' ')}: exit ${r.code}`);
      }
      rmSync(file);
      return { shape, detail: id, after: escapes };
    }
  }
}

/** Instances whose manifest params or inputs differ from the reference store's: poisoned results. */
export function poisoned(reference: string, store: string): string[] {
  const out: string[] = [];
  for (const stage of readdirSync(store).filter((s) => !s.startsWith('.'))) {
    for (const key of publishedOf(store, stage)) {
      const read = (root: string): string => {
        try {
          const m = JSON.parse(readFileSync(join(root, stage, key, 'manifest.json'), 'utf8')) as { params: unknown; inputs: unknown };
          return JSON.stringify([m.params, m.inputs]);
        } catch {
          return '(unreadable)';
        }
      };
      if (read(store) !== read(reference)) out.push(`${stage}/${key}`);
    }
  }
  return out;
}
