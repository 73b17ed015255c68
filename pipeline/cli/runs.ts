/**
 * `defrost runs [--json]`, `runs show RUN...`, `runs diff A B`, `runs forget RUN...`: the run
 * records of the store (run-records.ts) as a table, side by side, as a difference, or dropped
 * (so that `gc` may collect what only that run needed).
 *
 * A record is outside input (anyone who can write the store can edit it), so the human output is
 * bounded and escaped: every value goes through `cell` (control characters escaped, at most
 * `MAX_CELL` characters), and a section prints at most `MAX_ROWS` rows, saying how many more there
 * are (`--json` prints everything).
 */
import type { Command } from 'commander';
import { runningRuns, type RunIdentity } from '../active-runs.js';
import { UsageError } from '../errors.js';
import { formatSeconds } from '../progress.js';
import { findRun, flattenParams, forgetRun, listingOf, readRunRecords, type RunRecord } from '../run-records.js';
import type { JsonValue } from '../stage.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';
import { wrapWords } from '../terminal-width.js';
import { fitTable, foldTable, formatTable } from './table.js';
import { canAsk, confirm } from './confirm.js';
import { terminalText } from './terminal-text.js';

/** Longest value shown in a table cell. */
const MAX_CELL = 200;
/** Most rows a section of `runs show` / `runs diff` prints. */
const MAX_ROWS = 500;

/** A value from a record, ready for the terminal: escaped and bounded. */
function cell(text: string): string {
  const safe = terminalText(text);
  return safe.length > MAX_CELL ? `${safe.slice(0, MAX_CELL - 3)}...` : safe;
}

/** At most MAX_ROWS rows, and a line saying what was left out. */
function bounded<T>(rows: readonly T[], what: string): { rows: readonly T[]; more: string | null } {
  if (rows.length <= MAX_ROWS) return { rows, more: null };
  return { rows: rows.slice(0, MAX_ROWS), more: `  ... and ${rows.length - MAX_ROWS} more ${what} (\`--json\` prints them all)` };
}

interface StoreOptions {
  store?: string;
  json?: boolean;
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `2026-11-30 06:15:02` in UTC: sortable, and the same on every machine sharing a store. */
export function shortDate(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function overridesText(overrides: readonly string[]): string {
  return overrides.length === 0 ? '-' : overrides.join(' ');
}

/** Everything about a run that is not a config param or an answer, as rows. */
function facts(record: RunRecord): [string, string][] {
  return factsOf(record).map(([label, value]) => [label, cell(value)]);
}

function factsOf(record: RunRecord): [string, string][] {
  return [
    ['id', record.id],
    ['name', record.name ?? '-'],
    ['date', shortDate(record.date)],
    ['config', record.config],
    ['overrides', overridesText(record.overrides)],
    ['config hash', record.config_hash],
    ['version', record.version],
    ['commit', record.commit ?? '-'],
    ['backend', record.backend ?? '-'],
    ['executor', `${record.executor}, ${record.jobs} job(s) x ${record.threads} thread(s)`],
    ['status', record.status],
    ['instances', `${record.stages}: executed ${record.executed}, cached ${record.cached}, failed ${record.failed}`],
    ['wall time', formatSeconds(record.wall_s)],
  ];
}

/** `3 failed` instead of `failed`: the one count of a failed run that matters in the list. */
function statusText(r: RunRecord): string {
  return r.status === 'failed' ? `${r.failed} failed` : r.status;
}

interface ListOptions extends StoreOptions {
  wide?: boolean;
}

function registerList(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('list', { isDefault: true })
    .description('list recorded runs, oldest first, and the runs in progress (status running)')
    .option('--wide', 'every column at full width (date, failed count; no shortened cells)')
    .option('--json', 'one JSON object per line: id, name, date, config, overrides, executed, cached, failed, wall_s, ...');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (options: ListOptions) => {
      const store = storeFrom(options);
      const { records, damaged } = readRunRecords(store.root);
      const running = runningRuns(store).filter((r) => !records.some((done) => done.id === r.id));
      const elapsed = (r: RunIdentity): number => Math.max(0, (Date.now() - Date.parse(r.date)) / 1000);
      for (const path of damaged) ctx.err(`not a valid run record (left in place): ${cell(path)}`);
      if (options.json) {
        for (const r of records) ctx.out(JSON.stringify(listingOf(r)));
        for (const r of running)
          ctx.out(JSON.stringify({ ...r, status: 'running', executed: null, cached: null, failed: null, wall_s: Math.round(elapsed(r)) }));
        return 0;
      }
      if (records.length === 0 && running.length === 0) {
        ctx.out(`no runs recorded in ${store.root} yet: \`defrost run CONFIG\` records one`);
        return 0;
      }
      // One row per run, recorded or running: the columns both tables choose from.
      const listed = [
        ...records.map((r) => ({
          ...r,
          executed: String(r.executed),
          cached: String(r.cached),
          failed: String(r.failed),
          wall: formatSeconds(r.wall_s),
          status: statusText(r),
        })),
        ...running.map((r) => ({ ...r, executed: '-', cached: '-', failed: '-', wall: formatSeconds(elapsed(r)), status: 'running' })),
      ];
      if (options.wide) {
        const rows = listed.map((r) =>
          [
            r.id,
            r.name ?? '-',
            shortDate(r.date),
            r.config,
            overridesText(r.overrides),
            r.executed,
            r.cached,
            r.failed,
            r.wall,
            r.status,
          ].map(cell),
        );
        ctx.out(formatTable(['ID', 'NAME', 'DATE (UTC)', 'CONFIG', 'OVERRIDES', 'EXECUTED', 'CACHED', 'FAILED', 'WALL', 'STATUS'], rows));
        return 0;
      }
      // The id holds the date and time; the failed count is in the status (`3 failed`).
      const rows = listed.map((r) =>
        [r.id, r.name ?? '-', r.config, overridesText(r.overrides), r.executed, r.cached, r.wall, r.status].map(cell),
      );
      ctx.out(
        fitTable(['ID', 'NAME', 'CONFIG', 'OVERRIDES', 'RAN', 'CACHED', 'WALL', 'STATUS'], rows, { 1: 'start', 2: 'end', 3: 'start' }),
      );
      return 0;
    }),
  );
}

function registerShow(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('show')
    .argument('<runs...>', 'run ids, names, unique prefixes, or `last`')
    .description('params and answers of one or several runs side by side (* marks rows that differ)')
    .option('--json', 'print the full records as a JSON array');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (refs: string[], options: StoreOptions) => {
      const store = storeFrom(options);
      const { records } = readRunRecords(store.root);
      const chosen = refs.map((ref) => findRun(records, ref));
      if (options.json) {
        ctx.out(JSON.stringify(chosen));
        return 0;
      }
      const header = ['', ...chosen.map((r) => r.name ?? r.id)];
      // Long values (a list of measures, a path) fold within their column: no line over 100 columns;
      // at most MAX_ROWS rows a section.
      const table = (rows: string[][], what: string): string => {
        const shown = bounded(markDiffering(rows, chosen.length), what);
        const text = foldTable(
          header,
          shown.rows,
          chosen.map((_, i) => i + 1),
        );
        return shown.more === null ? text : `${text}\n${shown.more}`;
      };
      const factRows = facts(chosen[0]!).map(([label], i) => [label, ...chosen.map((r) => facts(r)[i]![1])]);
      ctx.out(table(factRows, 'facts'));
      ctx.out('\nparams');
      ctx.out(table(sideBySide(chosen.map((r) => flattenParams(r.params))), 'params'));
      ctx.out('\nanswer');
      // A chosen depth with its plausible set: `1 {0,1,2}`.
      const answers = chosen.map((r) =>
        Object.fromEntries(
          Object.entries(r.answer ?? {}).map(([k, v]) => {
            const set = r.plausible?.[k];
            return [k, set === undefined ? v : `${show(v)} ${setText(set)}`];
          }),
        ),
      );
      if (answers.every((a) => Object.keys(a).length === 0)) ctx.out('  (no answer recorded)');
      else ctx.out(table(sideBySide(answers), 'answer values'));
      return 0;
    }),
  );
}

/** One row per key present in any map; a column per map. */
function sideBySide(maps: readonly Record<string, JsonValue>[]): string[][] {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))];
  return keys.map((k) => [cell(k), ...maps.map((m) => cell(show(m[k])))]);
}

/** Prefixes `* ` to the label of rows whose values differ between runs (with several runs). */
function markDiffering(rows: string[][], columns: number): string[][] {
  if (columns < 2) return rows.map(([label, ...rest]) => [`  ${label}`, ...rest]);
  return rows.map(([label, ...values]) => [`${new Set(values).size > 1 ? '* ' : '  '}${label}`, ...values]);
}

export interface RunDifference {
  readonly field: string;
  readonly a: string;
  readonly b: string;
  /**
   * For an answer value with plausible sets in both records: whether the change is significant
   * (either value lies outside the other run's plausible set), and the reason in words.
   */
  readonly significant?: boolean;
  readonly judgement?: string;
}

const setText = (set: readonly number[]): string => `{${set.join(',')}}`;

/**
 * Whether a changed chosen depth is a significant change, judged from both runs' plausible sets:
 * not significant when each run's value is plausible in the other run (its data cannot tell the
 * two apart), significant otherwise. Null when a record has no plausible set for the value.
 */
export function judgeChange(field: string, a: RunRecord, b: RunRecord): { significant: boolean; judgement: string } | null {
  const va = a.answer?.[field];
  const vb = b.answer?.[field];
  const pa = a.plausible?.[field];
  const pb = b.plausible?.[field];
  if (typeof va !== 'number' || typeof vb !== 'number' || pa === undefined || pb === undefined) return null;
  const aInB = pb.includes(va);
  const bInA = pa.includes(vb);
  if (aInB && bInA)
    return { significant: false, judgement: `within both plausible sets (${setText(pa)} and ${setText(pb)}): not a significant change` };
  const outside = [
    aInB ? null : `${va} is outside the plausible set ${setText(pb)} of ${b.name ?? b.id}`,
    bInA ? null : `${vb} is outside the plausible set ${setText(pa)} of ${a.name ?? a.id}`,
  ].filter((t) => t !== null);
  return { significant: true, judgement: `${outside.join('; ')}: a significant change` };
}

/** What differs between two runs: provenance, params and answer (labels prefixed). */
export function diffRuns(a: RunRecord, b: RunRecord): { facts: RunDifference[]; params: RunDifference[]; answer: RunDifference[] } {
  const compare = (x: Record<string, JsonValue>, y: Record<string, JsonValue>): RunDifference[] =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])]
      .filter((k) => show(x[k]) !== show(y[k]))
      .map((k) => ({ field: k, a: show(x[k]), b: show(y[k]) }));
  const ignore = new Set(['id', 'name', 'date', 'wall time', 'instances']);
  const fa = factsOf(a);
  const fb = factsOf(b);
  return {
    facts: fa.map(([label, v], i) => ({ field: label, a: v, b: fb[i]![1] })).filter((d) => !ignore.has(d.field) && d.a !== d.b),
    params: compare(flattenParams(a.params), flattenParams(b.params)),
    answer: compare(a.answer ?? {}, b.answer ?? {}).map((d) => {
      const judged = judgeChange(d.field, a, b);
      return judged === null ? d : { ...d, ...judged };
    }),
  };
}

function registerDiff(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('diff')
    .argument('<a>', 'first run (id, name, prefix or `last`)')
    .argument('<b>', 'second run')
    .description('what changed between two runs: provenance, params and answer')
    .option('--json', 'print {"a","b","facts":[...],"params":[...],"answer":[...]} as JSON');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (refA: string, refB: string, options: StoreOptions) => {
      const store = storeFrom(options);
      const { records } = readRunRecords(store.root);
      const a = findRun(records, refA);
      const b = findRun(records, refB);
      const d = diffRuns(a, b);
      if (options.json) {
        ctx.out(JSON.stringify({ a: a.id, b: b.id, ...d }));
        return 0;
      }
      ctx.out(`${a.name ?? a.id} (${shortDate(a.date)}) -> ${b.name ?? b.id} (${shortDate(b.date)})`);
      const section = (title: string, rows: RunDifference[], same: string): void => {
        if (rows.length === 0) {
          ctx.out(`${title}: ${same}`);
          return;
        }
        ctx.out(`${title}:`);
        const shown = bounded(rows, 'differences');
        for (const r of shown.rows)
          ctx.out(
            wrapWords(
              `${cell(r.field)}: ${cell(r.a)} -> ${cell(r.b)}${r.judgement === undefined ? '' : `, ${cell(r.judgement)}`}`,
              '  ',
              '      ',
            ).join('\n'),
          );
        if (shown.more !== null) ctx.out(shown.more);
      };
      section('run', d.facts, 'same config, overrides, code and backend');
      section('params', d.params, 'identical');
      const cells = Object.keys({ ...(a.answer ?? {}), ...(b.answer ?? {}) }).length;
      section('answer', d.answer, cells === 0 ? 'none recorded' : `identical (${cells} values)`);
      const judged = d.answer.filter((r) => r.significant !== undefined);
      if (judged.length > 0) {
        const significant = judged.filter((r) => r.significant).length;
        ctx.out(`${significant} of ${judged.length} changed value(s) significant (outside the other run's plausible set)`);
      } else if (d.answer.length > 0 && (a.plausible == null || b.plausible == null))
        ctx.out('(a record has no plausible sets: made by an older defrost; whether a change is significant is not known)');
      return 0;
    }),
  );
}

function registerForget(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('forget')
    .argument('<runs...>', 'runs whose records to drop (results stay until `defrost gc`)')
    .description('drop run records, so that `gc` may collect what only those runs needed (asks first; --yes in scripts)')
    .option('--yes', 'forget without asking (needed when there is no terminal to ask on)');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (refs: string[], options: StoreOptions & { yes?: boolean }) => {
      const store = storeFrom(options);
      const { records } = readRunRecords(store.root);
      const chosen = [...new Map(refs.map((ref) => findRun(records, ref)).map((r) => [r.id, r])).values()];
      const listed = chosen.map((r) => `${r.id}${r.name ? ` (${r.name})` : ''}, ${r.config}`);
      if (!options.yes) {
        if (!canAsk())
          throw new UsageError(
            `runs forget: no terminal to confirm on; add --yes to forget ${chosen.length === 1 ? 'this run' : `these ${chosen.length} runs`}: ${listed.join('; ')}`,
          );
        for (const line of listed) ctx.err(`  ${line}`);
        if (
          !(await confirm(
            `Forget ${chosen.length === 1 ? 'this run' : `these ${chosen.length} runs`} (results stay until \`defrost gc\`)? [y/N] `,
          ))
        ) {
          ctx.err('nothing forgotten');
          return 0;
        }
      }
      for (const r of chosen) {
        forgetRun(store.root, r);
        ctx.out(`forgot run ${r.id}${r.name ? ` (${r.name})` : ''}`);
      }
      return 0;
    }),
  );
}

export function registerRunsCommand(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('recorded runs: list, show RUN..., diff A B, forget RUN...');
  registerList(runs, ctx);
  registerShow(runs, ctx);
  registerDiff(runs, ctx);
  registerForget(runs, ctx);
}
