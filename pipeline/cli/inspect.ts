/** `defrost ls` (published instances) and `defrost inspect KEY|DIR` (manifest, schemas, first rows). */
import { join } from 'node:path';
import type { Command } from 'commander';
import { matchAddress, resolveAddress } from '../address.js';
import { UsageError } from '../errors.js';
import { nearestName } from '../nearest-name.js';
import { formatSeconds } from '../progress.js';
import { readRunRecords, type RunRecord } from '../run-records.js';
import type { Coords } from '../stage.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';
import { shortDate } from './runs.js';
import { foldAtCommas, TERMINAL_WIDTH } from '../terminal-width.js';
import { foldTable, formatTable } from './table.js';

/** `correlation=1 n=20 mode=defrost`; `-` for an instance without coordinates (aggregate). */
export function formatCoords(coords: Coords): string {
  const parts = Object.entries(coords).map(([k, v]) => `${k}=${v === null ? 'null' : String(v)}`);
  return parts.length === 0 ? '-' : parts.join(' ');
}

/** Which recorded runs computed (`madeBy`) and planned (`usedBy`) each `stage/key`, oldest first. */
export function runProvenance(records: readonly RunRecord[]): { madeBy: Map<string, RunRecord[]>; usedBy: Map<string, RunRecord[]> } {
  const madeBy = new Map<string, RunRecord[]>();
  const usedBy = new Map<string, RunRecord[]>();
  const add = (map: Map<string, RunRecord[]>, id: string, r: RunRecord): void => {
    const list = map.get(id);
    if (list) list.push(r);
    else map.set(id, [r]);
  };
  for (const r of records) {
    for (const id of r.executed_instances) add(madeBy, id, r);
    for (const id of r.instances) add(usedBy, id, r);
  }
  return { madeBy, usedBy };
}

interface LsOptions {
  store?: string;
  stage?: string;
  json?: boolean;
  wide?: boolean;
}

export function registerLsCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('ls')
    .argument('[address]', 'only what this names: stage[name=value,...], a run (id, name, `last`: every instance it planned) or a key')
    .description('list published instances')
    .option('--stage <stage>', 'only this stage')
    .option('--wide', 'also the creation date, and no column folded to fit 100 columns')
    .option('--json', 'print a JSON array');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (address: string | undefined, options: LsOptions) => {
      const store = storeFrom(options);
      if (options.stage !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(options.stage))
        throw new UsageError(`--stage: got ${JSON.stringify(options.stage)}; allowed: a stage name`);
      if (options.stage !== undefined && !store.stageNames().includes(options.stage)) {
        const near = nearestName(options.stage, store.stageNames());
        if (near !== null) ctx.err(`no stage ${options.stage} in the store; did you mean ${near}?`);
      }
      const published =
        address === undefined
          ? store.scan(options.stage).published
          : matchAddress(store, address).filter((p) => options.stage === undefined || p.stage === options.stage);
      published.sort((a, b) => a.stage.localeCompare(b.stage) || a.manifest.id.localeCompare(b.manifest.id));
      const provenance = runProvenance(readRunRecords(store.root).records);
      const runLabel = (r: RunRecord): string => r.name ?? r.id;
      if (options.json) {
        ctx.out(
          JSON.stringify(
            published.map((p) => ({
              stage: p.stage,
              key: p.key,
              id: p.manifest.id,
              coords: p.manifest.coords,
              created: p.manifest.created,
              duration_s: p.manifest.duration_s,
              backend: p.manifest.backend,
              summary: p.manifest.summary,
              made_by: (provenance.madeBy.get(`${p.stage}/${p.key}`) ?? []).map((r) => r.id),
              used_by: (provenance.usedBy.get(`${p.stage}/${p.key}`) ?? []).map((r) => r.id),
              dir: p.dir,
            })),
          ),
        );
        return 0;
      }
      const rows = published.map((p) => {
        const id = `${p.stage}/${p.key}`;
        const made = provenance.madeBy.get(id) ?? [];
        const used = provenance.usedBy.get(id) ?? [];
        return [
          p.stage,
          p.key,
          ...(options.wide === true ? [shortDate(p.manifest.created)] : []),
          formatSeconds(p.manifest.duration_s),
          formatCoords(p.manifest.coords),
          made.length === 0 ? '-' : made.map(runLabel).join(','),
          used.length === 0
            ? '-'
            : used.length === 1
              ? runLabel(used[0]!)
              : `${used.length} runs (last ${runLabel(used[used.length - 1]!)})`,
        ];
      });
      if (rows.length > 0 && options.wide === true)
        ctx.out(formatTable(['STAGE', 'KEY', 'CREATED (UTC)', 'TIME', 'COORDINATES', 'MADE BY RUN', 'USED BY'], rows));
      // Within 100 columns (docs/engine.md): coordinates and run lists fold at their spaces and commas.
      else if (rows.length > 0) ctx.out(foldTable(['STAGE', 'KEY', 'TIME', 'COORDINATES', 'MADE BY RUN', 'USED BY'], rows, [3, 4, 5]));
      ctx.err(`${published.length} published instance(s) in ${store.root}`);
      return 0;
    }),
  );
}

interface InspectOptions {
  store?: string;
  rows: string;
  json?: boolean;
}

export function registerInspectCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('inspect')
    .argument('<address>', 'key (or unique prefix), `last`, a run id or name, stage[name=value,...], or an instance directory')
    .description('show an instance: manifest, and schema and first rows of each Arrow table')
    .option('--rows <n>', 'rows to show per table', '5')
    .option('--json', 'print {dir, manifest, tables} as JSON');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (ref: string, options: InspectOptions) => {
      const rows = Number(options.rows);
      if (!Number.isInteger(rows) || rows < 0)
        throw new UsageError(`--rows: got ${JSON.stringify(options.rows)}; allowed: a whole number >= 0`);
      const inst = resolveAddress(storeFrom(options), ref);
      const { readArrowTable, describeSchema, headRows } = await import('../arrow.js');
      const tables: Record<string, { rows: number; columns: unknown[]; metadata: Record<string, string>; head: unknown[] }> = {};
      for (const file of inst.manifest.files.filter((f) => f.path.endsWith('.arrow'))) {
        const table = await readArrowTable(join(inst.dir, file.path));
        const schema = describeSchema(table);
        tables[file.path] = { rows: table.numRows, columns: schema.columns, metadata: schema.metadata, head: headRows(table, rows) };
      }
      if (options.json) {
        ctx.out(JSON.stringify({ dir: inst.dir, manifest: inst.manifest, tables }));
        return 0;
      }
      const m = inst.manifest;
      ctx.out(`${m.stage} ${m.key}  ${m.id}`);
      ctx.out(`  dir:      ${inst.dir}`);
      ctx.out(`  created:  ${m.created}  (${formatSeconds(m.duration_s)}, backend ${m.backend}, ${m.threads} thread(s))`);
      // Every line within 100 columns (docs/engine.md): JSON folds after commas under its label.
      const field = (label: string, text: string): void =>
        ctx.out(
          foldAtCommas(text, TERMINAL_WIDTH - FIELD.length)
            .map((line, i) => `${i === 0 ? `  ${label}:`.padEnd(FIELD.length) : FIELD}${line}`)
            .join('\n'),
        );
      field('params', JSON.stringify(m.params));
      const inputs = Object.entries(m.inputs);
      if (inputs.length <= 8) for (const [name, input] of inputs) ctx.out(`  input:    ${name} = ${input.stage} ${input.key}`);
      else {
        // aggregate reads every run of the sweep: a count per stage says more than 100+ lines (--json lists them).
        const perStage = new Map<string, number>();
        for (const [, input] of inputs) perStage.set(input.stage, (perStage.get(input.stage) ?? 0) + 1);
        ctx.out(`  inputs:   ${inputs.length} (${[...perStage].map(([s, n]) => `${s} ${n}`).join(', ')}; --json lists them)`);
      }
      if (Object.keys(m.summary).length) field('summary', JSON.stringify(m.summary));
      ctx.out(`  code:     ${m.code.fingerprint.slice(0, 16)} (${m.code.files.length} file(s); --json lists them)`);
      for (const f of m.files) ctx.out(`  file:     ${f.path} (${f.bytes} bytes${f.rows !== undefined ? `, ${f.rows} rows` : ''})`);
      ctx.out(`  log:      ${join(inst.dir, m.log)}`);
      for (const [path, t] of Object.entries(tables)) {
        ctx.out(`\n${path}: ${t.rows} rows`);
        for (const c of t.columns as { name: string; type: string; nullable: boolean }[])
          ctx.out(`  ${c.name}: ${c.type}${c.nullable ? '' : ' (not null)'}`);
        for (const [k, v] of Object.entries(t.metadata)) ctx.out(abbreviate(`  metadata ${k}: ${v}`));
        for (const row of t.head) ctx.out(abbreviate(`  ${JSON.stringify(row)}`));
      }
      return 0;
    }),
  );
}

/** The indent of a manifest field's value: `  params:   `. */
const FIELD = ' '.repeat(12);

/** A line cut to the terminal width, `...` marking the cut (--json has it whole). */
function abbreviate(line: string): string {
  return line.length > TERMINAL_WIDTH ? `${line.slice(0, TERMINAL_WIDTH - 3)}...` : line;
}
