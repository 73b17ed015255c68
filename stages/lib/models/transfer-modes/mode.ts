/**
 * What a transfer mode is (docs/science.md#two-ways-to-transfer): how the network a transfer at
 * depth l starts from is made of a fresh target network and the source network. A mode only says
 * which hidden blocks (1-based) are copied from the source and which are frozen; `prepareTransfer`
 * (../transfer.ts) applies that to TensorFlow.js networks. Modes are light (no TensorFlow.js): the
 * config and the CLI read their names and captions.
 */
export interface TransferModeDefinition<N extends string = string> {
  /** The name configs (`transfer.modes`) and the command line spell. */
  readonly name: N;
  /** One line for help texts, the report and docs. */
  readonly caption: string;
  /** Blocks copied from the source network at depth `depth` of `blocks`. */
  copied(depth: number, blocks: number): number[];
  /** Blocks frozen (never updated) at depth `depth` of `blocks`. */
  frozen(depth: number, blocks: number): number[];
}

/** Blocks from..to (1-based, inclusive); empty when to < from. */
export function blockRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
