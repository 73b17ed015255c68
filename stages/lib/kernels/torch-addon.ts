/**
 * Loads the libtorch N-API addon (`native/torch/`, built by `make native` where Debian's
 * libtorch-dev is installed): the training step of imported network graphs (graph-trainer.ts,
 * docs/backends.md#imported-networks). Loading never throws: a missing or broken addon yields
 * the reason, which the training step says once before it falls back to TensorFlow.js's step.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque native graph trainer (a JS external); freed when garbage-collected. */
export interface GraphTrainerHandle {
  readonly __graphTrainer: unique symbol;
}

/** The addon's functions (native/torch/src/graph-napi.cc documents the layouts). */
export interface TorchAddon {
  /** libtorch's version; the thread count it computes with (always 1). */
  info(): { readonly torch: string; readonly threads: number };
  graphCreate(spec: Int32Array, scalars: Float32Array): GraphTrainerHandle;
  /** Element count of every parameter, in the trainer's order. */
  graphParamSizes(handle: GraphTrainerHandle): Float64Array;
  graphSetParam(handle: GraphTrainerHandle, index: number, values: Float32Array): void;
  graphGetParam(handle: GraphTrainerHandle, index: number, out: Float32Array): void;
  graphSetAnchor(handle: GraphTrainerHandle, index: number, values: Float32Array): void;
  /** Writes [mean loss, correct predictions] of the batch (before the update) into `out`. */
  graphStep(handle: GraphTrainerHandle, x: Float32Array, labels: Int32Array, rows: number, out: Float64Array): void;
  graphForward(handle: GraphTrainerHandle, x: Float32Array, rows: number, logits: Float32Array): void;
}

export type TorchAddonLoad =
  { readonly ok: true; readonly addon: TorchAddon; readonly path: string } | { readonly ok: false; readonly reason: string };

/** `native/torch/build/Release/defrost_torch.node`, from `stages/lib/kernels` or `dist/stages/lib/kernels`. */
function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const inDist = here.endsWith(join('dist', 'stages', 'lib', 'kernels'));
  return join(here, inDist ? '../../../..' : '../../..', 'native', 'torch', 'build', 'Release', 'defrost_torch.node');
}

let cached: TorchAddonLoad | undefined;

export function loadTorchAddon(): TorchAddonLoad {
  if (cached) return cached;
  const path = process.env.DEFROST_TORCH_ADDON ?? addonPath();
  if (!existsSync(path)) {
    cached = {
      ok: false,
      reason: `the libtorch step is not built (${path} is missing; run \`make native\`, which needs Debian's libtorch-dev)`,
    };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as TorchAddon;
    cached = { ok: true, addon, path };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    cached = { ok: false, reason: `the libtorch step at ${path} failed to load: ${message}` };
  }
  return cached;
}
