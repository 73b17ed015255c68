/** Placeholder for compute backend selection: the backend owner replaces this file. */
import type { RuntimeInfo } from '../pipeline/project.js';

export async function initRuntime(threads: number): Promise<RuntimeInfo> {
  void threads;
  return { backend: 'none', notes: ['compute backends are not built yet'], versions: {} };
}
