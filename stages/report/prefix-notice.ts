/**
 * The line `defrost run` prints when some frozen-prefix activations were not cached
 * (docs/performance.md, "Frozen-prefix activations"): over the size limit, or a prefix that cannot
 * be cached. The run still completes; its transfers computed those prefixes every step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunInstance } from '../../pipeline/project.js';
import { wrapWords } from '../../pipeline/terminal-width.js';
import { prefixSummaryOf } from '../training/prefix.js';

/** The notice for the run's `prefix` instances that hold no activations, or null when all do. */
export function uncachedPrefixNotice(instances: ReadonlyArray<RunInstance>): string | null {
  const reasons: string[] = [];
  let total = 0;
  for (const instance of instances) {
    if (instance.stage !== 'prefix' || !instance.published) continue;
    total++;
    let summary: Record<string, unknown>;
    try {
      summary =
        (JSON.parse(readFileSync(join(instance.dir, 'manifest.json'), 'utf8')) as { summary?: Record<string, unknown> }).summary ?? {};
    } catch {
      continue; // an unreadable manifest is `verify`'s business, not this notice's
    }
    const prefix = prefixSummaryOf(summary);
    if (prefix !== null && !prefix.cached) reasons.push(`${instance.id}: ${prefix.reason ?? 'not cached'}`);
  }
  if (reasons.length === 0) return null;
  const text =
    `Frozen-prefix activations not cached for ${reasons.length} of ${total} prefixes (their transfers ran the ` +
    `frozen blocks every step; docs/performance.md): ${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? '; ...' : ''}`;
  return wrapWords(text).join('\n');
}
