/**
 * The fixed hyper-parameters of the modes that have any (config `transfer.protocols.<mode>`), as
 * plain data: the config, which every stage loads, builds its schema from this module alone, so a
 * stage's fingerprint counts these values but not the modes' code (docs/architecture.md, "Code
 * fingerprints"). Each mode's module points its `options` here.
 */
import type { ModeOption } from './mode.js';
import type { TransferMode } from './registry.js';

export const MODE_OPTIONS = {
  surgical: {
    width: { default: 1, min: 1, integer: true, describe: 'how many contiguous blocks learn, from block b up (Lee et al. tune one block)' },
  },
  gradual: {
    stage_steps: {
      default: 50,
      min: 1,
      integer: true,
      describe: 'optimizer steps of each stage before the last (rounded up to whole epochs); ULMFiT trains one epoch per stage',
    },
  },
  l2sp: {
    beta: {
      default: 0,
      min: 0,
      integer: false,
      describe:
        'strength of the plain L2 decay of the new readout (Li et al. use 0.01 beside alpha; 0 keeps the readout trained as in every other mode)',
    },
  },
} as const satisfies Readonly<Record<string, Readonly<Record<string, ModeOption>>>>;

/** The options `mode` declares (none for most modes). */
export function declaredOptions(mode: TransferMode): Readonly<Record<string, ModeOption>> {
  const all: { readonly [M in TransferMode]?: Readonly<Record<string, ModeOption>> } = MODE_OPTIONS;
  return all[mode] ?? {};
}
