/**
 * The headline answer of a run for its run record (the project's `answer` hook): l* of every
 * (correlation, n, mode) cell, read from the aggregate's manifest summary, so recording a fully
 * cached run reads one small JSON file and no table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../../pipeline/stage.js';

interface Cell {
  correlation?: unknown;
  n?: unknown;
  mode?: unknown;
  depth?: unknown;
}

/** `l*[rho=0.95,n=100,defrost]`; image tasks (no correlation) leave rho out. */
export function cellLabel(cell: Cell): string {
  const rho = cell.correlation === null || cell.correlation === undefined ? '' : `rho=${String(cell.correlation)},`;
  return `l*[${rho}n=${String(cell.n)},${String(cell.mode)}]`;
}

export async function runAnswer(published: ReadonlyArray<{ stage: string; dir: string }>): Promise<Record<string, JsonValue> | null> {
  const aggregate = published.find((p) => p.stage === 'aggregate');
  if (aggregate === undefined) return null;
  try {
    const manifest = JSON.parse(readFileSync(join(aggregate.dir, 'manifest.json'), 'utf8')) as { summary?: { optimal_depth?: unknown } };
    const cells = manifest.summary?.optimal_depth;
    if (!Array.isArray(cells)) return null;
    const answer: Record<string, JsonValue> = {};
    for (const cell of cells as Cell[]) {
      const depth = cell.depth;
      answer[cellLabel(cell)] = typeof depth === 'number' || depth === null ? depth : null;
    }
    return answer;
  } catch {
    return null;
  }
}
