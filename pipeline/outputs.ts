/**
 * A stage's declared outputs at run time: where a named output lives, and the check the engine
 * runs before publishing — every required output was written, nothing undeclared was, and every
 * table has its declared columns with their declared Arrow types. A stage that breaks its
 * declaration fails (nothing is published), so consumers can rely on it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StageFailure } from './errors.js';
import type { AnyStage, OutputDecls } from './stage.js';

/** Absolute path of output `name` of a stage (`stage`: its name and outputs) inside instance (or staging) directory `dir`. */
export function outputPath(dir: string, stage: { readonly name: string; readonly outputs: OutputDecls }, name: string): string {
  const decl = stage.outputs[name];
  if (!decl)
    throw new StageFailure(`stage ${stage.name} declares no output "${name}" (it declares ${Object.keys(stage.outputs).join(', ')})`);
  return join(dir, decl.file);
}

export async function checkOutputs(staging: string, stage: AnyStage): Promise<void> {
  const declared = Object.entries(stage.outputs);
  const tops = new Set(declared.map(([, d]) => d.file.split('/')[0]));
  for (const entry of readdirSync(staging))
    if (!tops.has(entry))
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
    if (decl.kind === 'table' && decl.columns) {
      const { readArrowTable } = await import('./arrow.js');
      const fields = new Map((await readArrowTable(path)).schema.fields.map((f) => [f.name, String(f.type)]));
      for (const [column, type] of Object.entries(decl.columns)) {
        const actual = fields.get(column);
        if (actual === undefined) throw new StageFailure(`stage ${stage.name}: table ${decl.file} lacks its declared column ${column}`);
        if (actual !== type) throw new StageFailure(`stage ${stage.name}: column ${column} of ${decl.file} is ${actual}, declared ${type}`);
      }
    }
  }
}
