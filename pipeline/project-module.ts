/**
 * Loads a project from a module URL. The CLI and every worker load the same module, so the
 * scheduler can hand workers a URL instead of a project. The module's default export is used,
 * else its only export that looks like a project (has `stages`, `plan` and `configSchema`).
 */
import type { AnyProject } from './project.js';

function looksLikeProject(value: unknown): value is AnyProject {
  return (
    typeof value === 'object' &&
    value !== null &&
    'stages' in value &&
    'plan' in value &&
    'configSchema' in value &&
    typeof (value as { plan: unknown }).plan === 'function'
  );
}

export async function loadProjectModule(url: string): Promise<AnyProject> {
  const mod = (await import(url)) as Record<string, unknown>;
  if (looksLikeProject(mod.default)) return mod.default;
  const candidates = Object.values(mod).filter(looksLikeProject);
  if (candidates.length !== 1) throw new Error(`module ${url} exports ${candidates.length} projects; export exactly one (or a default)`);
  return candidates[0];
}
