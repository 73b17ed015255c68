/**
 * A stage's declared outputs and summary at run time: where a named output lives, and the checks
 * the engine runs before publishing — every required output was written, nothing undeclared was,
 * every table has exactly its declared columns with their declared Arrow types, and the summary
 * has its declared form. A stage that breaks its declaration fails (nothing is published), so
 * consumers can rely on it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ATTEMPT_MARK } from './attempt-mark.js';
import { StageFailure } from './errors.js';
import type { z } from 'zod';
import type { AnyStage, JsonObject, OutputDecl, OutputDecls } from './stage.js';

/** The declaration of output `name` of a stage (`stage`: its name and outputs); a stage failure if it declares none. */
function outputDecl(stage: { readonly name: string; readonly outputs: OutputDecls }, name: string): OutputDecl {
  const decl = stage.outputs[name];
  if (!decl)
    throw new StageFailure(`stage ${stage.name} declares no output "${name}" (it declares ${Object.keys(stage.outputs).join(', ')})`);
  return decl;
}

/** Absolute path of output `name` of a stage (`stage`: its name and outputs) inside instance (or staging) directory `dir`. */
export function outputPath(dir: string, stage: { readonly name: string; readonly outputs: OutputDecls }, name: string): string {
  return join(dir, outputDecl(stage, name).file);
}

/**
 * The content digest of output `name` of a published instance from its manifest's `files`:
 * `sha256:<hex>` of a file as recorded, or of a directory's files (sha256 over each one's path
 * relative to the directory and its sha256, in path order). Same bytes, same digest.
 */
export function outputDigest(
  files: readonly { readonly path: string; readonly sha256: string }[],
  stage: { readonly name: string; readonly outputs: OutputDecls },
  name: string,
): string {
  const decl = outputDecl(stage, name);
  if (decl.kind !== 'dir') {
    const entry = files.find((f) => f.path === decl.file);
    if (entry === undefined) throw new StageFailure(`the ${stage.name} instance has no ${decl.file} in its manifest`);
    return `sha256:${entry.sha256}`;
  }
  const inside = files.filter((f) => f.path.startsWith(`${decl.file}/`)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (inside.length === 0) throw new StageFailure(`the ${stage.name} instance has no files under ${decl.file}/ in its manifest`);
  const hash = createHash('sha256');
  for (const f of inside) hash.update(`${f.path.slice(decl.file.length + 1)}\u0000${f.sha256}\n`);
  return `sha256:${hash.digest('hex')}`;
}

function summaryIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(summary)'}: ${i.message}`).join('; ');
}

/** The summary a stage returned, checked against its declared schema (if it declares one). */
export function checkSummary(stage: AnyStage, summary: JsonObject): JsonObject {
  if (stage.summary === undefined) return summary;
  const parsed = stage.summary.safeParse(summary);
  if (!parsed.success)
    throw new StageFailure(`stage ${stage.name} returned a summary that breaks its declaration: ${summaryIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * An input's summary, parsed with its producer's declared summary schema. The engine checked it
 * when the input was published, so a mismatch means a store written by other code: a
 * `StageFailure` naming the instance, never a stack trace.
 */
export function summaryOf<T extends JsonObject>(schema: z.ZodType<T>, input: { readonly id: string; readonly summary?: JsonObject }): T {
  const parsed = schema.safeParse(input.summary ?? {});
  if (!parsed.success)
    throw new StageFailure(
      `${input.id} has no summary of the declared form (${summaryIssues(parsed.error)}); run \`defrost run\` to recompute it`,
    );
  return parsed.data;
}

export async function checkOutputs(staging: string, stage: AnyStage): Promise<void> {
  const declared = Object.entries(stage.outputs);
  const tops = new Set(declared.map(([, d]) => d.file.split('/')[0]));
  for (const entry of readdirSync(staging))
    if (!tops.has(entry) && entry !== ATTEMPT_MARK)
      throw new StageFailure(
        `stage ${stage.name} wrote ${entry}, which is not one of its declared outputs (${declared.map(([, d]) => d.file).join(', ')})`,
      );
  for (const [name, decl] of declared) {
    const path = join(staging, decl.file);
    if (!existsSync(path)) {
      if (decl.optional) continue;
      throw new StageFailure(`stage ${stage.name} did not write its output ${name} (${decl.file})`);
    }
    const isDir = statSync(path).isDirectory();
    if (isDir !== (decl.kind === 'dir'))
      throw new StageFailure(
        `stage ${stage.name}: output ${name} (${decl.file}) should be a ${decl.kind === 'dir' ? 'directory' : 'file'}`,
      );
    const columns = decl.columns;
    if (decl.kind === 'table' && columns) {
      const { readArrowTable } = await import('./arrow.js');
      const fields = new Map((await readArrowTable(path)).schema.fields.map((f) => [f.name, String(f.type)]));
      for (const [column, type] of Object.entries(columns)) {
        const actual = fields.get(column);
        if (actual === undefined) throw new StageFailure(`stage ${stage.name}: table ${decl.file} lacks its declared column ${column}`);
        if (!arrowTypeMatches(type, actual))
          throw new StageFailure(`stage ${stage.name}: column ${column} of ${decl.file} is ${actual}, declared ${type}`);
      }
      const extra = [...fields.keys()].filter((column) => !(column in columns));
      if (extra.length > 0)
        throw new StageFailure(
          `stage ${stage.name}: table ${decl.file} has the undeclared column(s) ${extra.join(', ')} (declared: ${Object.keys(columns).join(', ')})`,
        );
    }
  }
}

/**
 * Whether a column of Arrow type `actual` (as apache-arrow prints it) has the `declared` type. A
 * fixed-size list declared without its width (`FixedSizeList<Float32>`) matches any width
 * (`FixedSizeList[784]<Float32>`): the width of a dataset's rows depends on its data.
 */
export function arrowTypeMatches(declared: string, actual: string): boolean {
  if (declared === actual) return true;
  const list = /^FixedSizeList<(.+)>$/.exec(declared);
  const sized = /^FixedSizeList\[\d+\]<(.+)>$/.exec(actual);
  return list !== null && sized !== null && list[1] === sized[1];
}
