/**
 * The transfer modes, one module each (`mode.ts` says what a mode declares; docs/architecture.md,
 * "Adding a measure, a mode"): a new mode is its module, its name in `TRANSFER_MODES` and its
 * entry in `MODE_BY_NAME` (the compiler holds the two together). The config's `transfer.modes`,
 * `transfer` and `cv-train` params, `recommend --modes`, the report's captions and the docs' table
 * of modes (`make docs`) read this module; none of them names a mode.
 *
 * `defrost` and `reinit` freeze a prefix of depth l; the protocols after them
 * (docs/science.md#beyond-freezing-a-prefix) sweep their own setting and train in their own
 * phases; a study compares them all per cell (stages/lib/report/protocol-choice.ts).
 *
 * The names stand apart from the definitions because the config, which every stage loads, needs
 * only them: this module computes nothing when it loads, so a stage's code fingerprint counts a
 * mode's code only when the stage transfers (docs/architecture.md, "Code fingerprints").
 */
import { defrostMode } from './defrost.js';
import { gradualMode } from './gradual.js';
import { l2spMode } from './l2sp.js';
import { llrdMode } from './llrd.js';
import { lpFtMode } from './lp-ft.js';
import type { TransferModeDefinition } from './mode.js';
import { reinitMode } from './reinit.js';
import { surgicalMode } from './surgical.js';

/** The modes freezing a prefix of depth l. */
export const PREFIX_MODES = ['defrost', 'reinit'] as const;

/** The protocols beyond a frozen prefix (`recommend --protocols all`). */
export const PROTOCOLS = ['surgical', 'lp-ft', 'llrd', 'gradual', 'l2sp'] as const;

/** The modes' names, in registry order (the config's `transfer.modes` enum). */
export const TRANSFER_MODES = [...PREFIX_MODES, ...PROTOCOLS] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

/** Every mode by its name: one per name of `TRANSFER_MODES`, of that name (checked by the compiler). */
const MODE_BY_NAME: { readonly [M in TransferMode]: TransferModeDefinition<M> } = {
  defrost: defrostMode,
  reinit: reinitMode,
  surgical: surgicalMode,
  'lp-ft': lpFtMode,
  llrd: llrdMode,
  gradual: gradualMode,
  l2sp: l2spMode,
};

/** The mode of a study and of `recommend` that names none. */
export const DEFAULT_TRANSFER_MODE: TransferMode = 'defrost';

/**
 * Where a mode is expected, the name of training from scratch (no transfer): the l* table's
 * baseline rows (`results.arrow`) and `cv-train`'s scratch folds. No transfer mode takes it.
 */
export const SCRATCH_MODE = 'scratch';

/** The definition of a mode by name. */
export function transferModeOf(name: TransferMode): TransferModeDefinition {
  return MODE_BY_NAME[name];
}

/** Every mode, in the order of `TRANSFER_MODES`. */
export function allTransferModes(): TransferModeDefinition[] {
  return TRANSFER_MODES.map(transferModeOf);
}

/** The definition of a mode named in a table, or undefined (`scratch`, or a name no mode has). */
export function knownTransferMode(name: string): TransferModeDefinition | undefined {
  return allTransferModes().find((m) => m.name === name);
}
