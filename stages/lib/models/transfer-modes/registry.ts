/**
 * The transfer modes, one module each (docs/architecture.md, "Adding a transfer mode"): a new
 * mode is its module and one line here; the config, `recommend`, the report and the docs read
 * this list.
 */
import { defrostMode } from './defrost.js';
import type { TransferModeDefinition } from './mode.js';
import { reinitMode } from './reinit.js';

export const TRANSFER_MODE_DEFINITIONS = [defrostMode, reinitMode] as const;

/** The modes' names, in registry order (the config's `transfer.modes` enum). */
export type TransferMode = (typeof TRANSFER_MODE_DEFINITIONS)[number]['name'];
export const TRANSFER_MODES: readonly TransferMode[] = TRANSFER_MODE_DEFINITIONS.map((m) => m.name);

/** The definition of a mode by name. */
export function transferModeOf(name: TransferMode): TransferModeDefinition {
  const mode = TRANSFER_MODE_DEFINITIONS.find((m) => m.name === name);
  if (mode === undefined) throw new Error(`unknown transfer mode ${name}`);
  return mode;
}
