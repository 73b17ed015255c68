/**
 * The headline answer of a run for its run record (the project's `answer` hook): l* of every
 * (correlation, n, mode) cell with its plausible set, read from the aggregate's declared manifest
 * summary, so recording a fully cached run reads one small JSON file and no table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MANIFEST_FILE } from '../../pipeline/manifest.js';
import type { RunAnswer } from '../../pipeline/project.js';
import { aggregateStage, aggregateSummary } from './aggregate.js';

type Cell = Pick<z.output<typeof aggregateSummary>['optimal_depth'][number], 'correlation' | 'n' | 'mode'>;

/** `l*[rho=0.95,n=100,defrost]`; image tasks (no correlation) leave rho out. */
export function cellLabel(cell: Cell): string {
  const rho = cell.correlation === null ? '' : `rho=${cell.correlation},`;
  return `l*[${rho}n=${cell.n},${cell.mode}]`;
}

/** The manifest as far as the answer needs it. */
const aggregateManifest = z.object({ summary: aggregateSummary });

export async function runAnswer(published: ReadonlyArray<{ stage: string; dir: string }>): Promise<RunAnswer | null> {
  const aggregate = published.find((p) => p.stage === aggregateStage.name);
  if (aggregate === undefined) return null;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(aggregate.dir, MANIFEST_FILE), 'utf8'));
  } catch {
    return null;
  }
  const parsed = aggregateManifest.safeParse(manifest);
  if (!parsed.success) return null;
  const cells = parsed.data.summary.optimal_depth;
  return {
    values: Object.fromEntries(cells.map((cell) => [cellLabel(cell), cell.depth])),
    plausible: Object.fromEntries(cells.map((cell) => [cellLabel(cell), cell.plausible])),
  };
}
