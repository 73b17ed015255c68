/**
 * What every toy stage does around its arithmetic, driven by environment knobs that the engine
 * tests set (read in the worker, per instance):
 * - DEFROST_TOY_SLEEP_MS: milliseconds each instance sleeps (default 2), to make runs killable.
 * - DEFROST_TOY_FAIL: a stage name, a substring of an instance id (`square{"value":2}`) or a key;
 *   matching instances throw a StageFailure.
 * - DEFROST_TOY_TRACE: a file to which every computed instance appends `<stage> <key>\n`.
 * Each instance also logs a line, prints to the console and reports progress, so the tests can
 * see that logs, console capture and progress reach the engine.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { StageFailure } from '../../pipeline/errors.js';
import type { Coords } from '../../pipeline/stage.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The parts of a stage context the toy runtime uses (any toy stage's context has them). */
export interface ToyRunContext {
  readonly stage: string;
  readonly key: string;
  readonly coords: Coords;
  readonly signal: AbortSignal;
  log(line: string): void;
  progress(p: { epoch: number; epochs: number; loss: number }): void;
}

/** Logs, reports progress, sleeps, and fails when asked to; call before the stage's work. */
export async function toyPreamble(ctx: ToyRunContext): Promise<void> {
  ctx.log(`toy ${ctx.stage} ${ctx.key} starting`);
  console.log(`console output of ${ctx.stage}`);
  const ms = Number(process.env.DEFROST_TOY_SLEEP_MS ?? '2');
  const steps = 4;
  for (let epoch = 1; epoch <= steps; epoch++) {
    ctx.progress({ epoch, epochs: steps, loss: 1 / epoch });
    await sleep(ms / steps);
    if (ctx.signal.aborted) throw new Error('aborted');
  }
  const fail = process.env.DEFROST_TOY_FAIL;
  const id = `${ctx.stage}${JSON.stringify(ctx.coords)}`;
  if (fail && (fail === ctx.stage || id.includes(fail) || ctx.key === fail))
    throw new StageFailure(`toy failure requested for ${ctx.stage}`);
}

/** Records a computed instance in the trace file, when the test asked for one. */
export function toyTrace(ctx: ToyRunContext): void {
  if (process.env.DEFROST_TOY_TRACE) appendFileSync(process.env.DEFROST_TOY_TRACE, `${ctx.stage} ${ctx.key}\n`);
}

/** The columns of every toy table. */
export const TOY_COLUMNS = { value: 'Float64', label: 'Int32', name: 'Utf8' } as const;

/** Writes `values` as a toy table: value, label (index mod 3), name (`row i, "<stage>"`, quoted for CSV tests). */
export async function writeToyTable(path: string, stage: string, values: readonly number[]): Promise<void> {
  const { Table, Utf8, tableToIPC, vectorFromArray } = await import('apache-arrow');
  const label = Int32Array.from(values, (_, i) => i % 3);
  const names = values.map((_, i) => `row ${i}, "${stage}"`);
  // An explicit Utf8 column: tableFromArrays would dictionary-encode the strings, and Arrow numbers
  // dictionaries from a per-process counter, so the bytes would depend on what the worker ran before.
  const table = new Table({
    value: vectorFromArray(Float64Array.from(values)),
    label: vectorFromArray(label),
    name: vectorFromArray(names, new Utf8()),
  });
  writeFileSync(path, tableToIPC(table, 'file'));
}

/** The `value` column of a toy table. */
export async function readToyValues(path: string): Promise<number[]> {
  const { tableFromIPC } = await import('apache-arrow');
  const column = tableFromIPC(readFileSync(path)).getChild('value');
  if (column === null) throw new StageFailure(`${path} has no value column`);
  return Array.from(column.toArray() as Float64Array);
}
