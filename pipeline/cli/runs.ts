/**
 * `defrost runs [--json]`, `runs show RUN...`, `runs diff A B`, `runs forget RUN...`: the run
 * records of the store (run-records.ts) as a table, side by side, as a difference, or dropped
 * (so that `gc` may collect what only that run needed).
 */
import type { Command } from 'commander';
import { formatSeconds } from '../progress.js';
import { findRun, flattenParams, forgetRun, listingOf, readRunRecords, type RunRecord } from '../run-records.js';
import type { JsonValue } from '../stage.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';
import { formatTable } from './table.js';

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

function overridesText(record: RunRecord): string {
  return record.overrides.length === 0 ? '-' : record.overrides.join(' ');
}

/** Everything about a run that is not a config param or an answer, as rows. */
function facts(record: RunRecord): [string, string][] {
  return [
    ['id', record.id],
    ['name', record.name ?? '-'],
    ['date', shortDate(record.date)],
    ['config', record.config],
    ['overrides', overridesText(record)],
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

function registerList(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('list', { isDefault: true })
    .description('list recorded runs, oldest first')
    .option('--json', 'one JSON object per line: id, name, date, config, overrides, executed, cached, failed, wall_s, ...');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (options: StoreOptions) => {
      const store = storeFrom(options);
      const { records, damaged } = readRunRecords(store.root);
      for (const path of damaged) ctx.err(`not a valid run record (left in place): ${path}`);
      if (options.json) {
        for (const r of records) ctx.out(JSON.stringify(listingOf(r)));
        return 0;
      }
      if (records.length === 0) {
        ctx.out(`no runs recorded in ${store.root} yet: \`defrost run CONFIG\` records one`);
        return 0;
      }
      const rows = records.map((r) => [
        r.id,
        r.name ?? '-',
        shortDate(r.date),
        r.config,
        overridesText(r),
        String(r.executed),
        String(r.cached),
        String(r.failed),
        formatSeconds(r.wall_s),
        r.status,
      ]);
      ctx.out(formatTable(['ID', 'NAME', 'DATE (UTC)', 'CONFIG', 'OVERRIDES', 'EXECUTED', 'CACHED', 'FAILED', 'WALL', 'STATUS'], rows));
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
      const factRows = facts(chosen[0]!).map(([label], i) => [label, ...chosen.map((r) => facts(r)[i]![1])]);
      ctx.out(formatTable(header, markDiffering(factRows, chosen.length)));
      ctx.out('\nparams');
      ctx.out(formatTable(header, markDiffering(sideBySide(chosen.map((r) => flattenParams(r.params))), chosen.length)));
      ctx.out('\nanswer');
      const answers = chosen.map((r) => r.answer ?? {});
      if (answers.every((a) => Object.keys(a).length === 0)) ctx.out('  (no answer recorded)');
      else ctx.out(formatTable(header, markDiffering(sideBySide(answers), chosen.length)));
      return 0;
    }),
  );
}

/** One row per key present in any map; a column per map. */
function sideBySide(maps: readonly Record<string, JsonValue>[]): string[][] {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))];
  return keys.map((k) => [k, ...maps.map((m) => show(m[k]))]);
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
}

/** What differs between two runs: provenance, params and answer (labels prefixed). */
export function diffRuns(a: RunRecord, b: RunRecord): { facts: RunDifference[]; params: RunDifference[]; answer: RunDifference[] } {
  const compare = (x: Record<string, JsonValue>, y: Record<string, JsonValue>): RunDifference[] =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])]
      .filter((k) => show(x[k]) !== show(y[k]))
      .map((k) => ({ field: k, a: show(x[k]), b: show(y[k]) }));
  const ignore = new Set(['id', 'name', 'date', 'wall time', 'instances']);
  const fa = facts(a);
  const fb = facts(b);
  return {
    facts: fa.map(([label, v], i) => ({ field: label, a: v, b: fb[i]![1] })).filter((d) => !ignore.has(d.field) && d.a !== d.b),
    params: compare(flattenParams(a.params), flattenParams(b.params)),
    answer: compare(a.answer ?? {}, b.answer ?? {}),
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
        for (const r of rows) ctx.out(`  ${r.field}: ${r.a} -> ${r.b}`);
      };
      section('run', d.facts, 'same config, overrides, code and backend');
      section('params', d.params, 'identical');
      const cells = Object.keys({ ...(a.answer ?? {}), ...(b.answer ?? {}) }).length;
      section('answer', d.answer, cells === 0 ? 'none recorded' : `identical (${cells} values)`);
      return 0;
    }),
  );
}

function registerForget(runs: Command, ctx: CliContext): void {
  const cmd = runs
    .command('forget')
    .argument('<runs...>', 'runs whose records to drop (results stay until `defrost gc`)')
    .description('drop run records, so that `gc` may collect what only those runs needed');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (refs: string[], options: StoreOptions) => {
      const store = storeFrom(options);
      const { records } = readRunRecords(store.root);
      const chosen = refs.map((ref) => findRun(records, ref));
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
