/**
 * The transfer modes, one module each (docs/architecture.md, "Adding a transfer mode"): a new
 * mode is its module and one line here; the config, `recommend`, the report and the docs read
 * this list. `defrost` and `reinit` freeze a prefix of depth l; the protocols
 * (docs/science.md#beyond-freezing-a-prefix) sweep their own setting and train in their own
 * phases. The protocols train (`prepareTransfer`, the training loop) but are not yet modes a
 * config or `recommend` can name: the study, the report and `recommend` learn their settings next.
 */
import { defrostMode } from './defrost.js';
import { gradualMode } from './gradual.js';
import { l2spMode } from './l2sp.js';
import { llrdMode } from './llrd.js';
import { lpFtMode } from './lp-ft.js';
import type { TransferModeDefinition } from './mode.js';
import { reinitMode } from './reinit.js';
import { surgicalMode } from './surgical.js';

export const TRANSFER_MODE_DEFINITIONS = [defrostMode, reinitMode] as const;

/** The protocols beyond a frozen prefix. */
export const PROTOCOL_DEFINITIONS = [surgicalMode, lpFtMode, llrdMode, gradualMode, l2spMode] as const;

/** The modes' names, in registry order (the config's `transfer.modes` enum). */
export type TransferMode = (typeof TRANSFER_MODE_DEFINITIONS)[number]['name'];
export const TRANSFER_MODES: readonly TransferMode[] = TRANSFER_MODE_DEFINITIONS.map((m) => m.name);

/** A mode or a protocol, by name. */
export type TransferProtocol = TransferMode | (typeof PROTOCOL_DEFINITIONS)[number]['name'];

/** The definition of a mode or protocol by name. */
export function transferModeOf(name: TransferProtocol): TransferModeDefinition {
  const mode = [...TRANSFER_MODE_DEFINITIONS, ...PROTOCOL_DEFINITIONS].find((m) => m.name === name);
  if (mode === undefined) throw new Error(`unknown transfer mode ${name}`);
  return mode;
}
