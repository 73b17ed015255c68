/**
 * Plans the `prefix` instances a transfer reads (./prefix.ts, docs/performance.md): one per
 * (source network, target data, depth), shared by every transfer of that source and data whose
 * mode keeps blocks 1..l frozen — every n, every such mode, and every seed when the seeds share
 * one network (an imported `source_model`). Depth l takes depth l - 1's as its `previous` input.
 */
import type { InstanceRef } from '../../pipeline/plan-builder.js';
import type { AnswerCell } from './answer-stage.js';
import { prefixLimitBytes, prefixStage } from './prefix.js';

/** The `prefix` instance of frozen depth `depth` for this cell's source and data, or none (depth 0, or caching off). */
export function planPrefix(cell: AnswerCell, depth: number): InstanceRef<'prefix'>[] {
  const limit = cell.config.transfer.prefix_cache_gb;
  if (depth < 1 || limit === 0) return [];
  // Seeds that share the source network share its activations.
  const shared = cell.source.stage === 'import-source';
  let previous: InstanceRef<'prefix'>[] = [];
  for (let l = 1; l <= depth; l++) {
    const coords = { ...cell.task, correlation: cell.correlation, ...(shared ? {} : { seed: cell.seed }), depth: l };
    const params = { depth: l, limit_bytes: prefixLimitBytes(limit) };
    previous = [cell.plan.add(prefixStage, coords, params, { data: [cell.data], samples: [], source: cell.source, previous })];
  }
  return previous;
}
