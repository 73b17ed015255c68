/**
 * What a transfer mode is (docs/science.md#transfer-modes, and for the protocols beyond a
 * frozen prefix docs/science.md#beyond-freezing-a-prefix): how the network a transfer starts from
 * is made of a fresh target network and the source network, and how it then trains. A mode says
 * which hidden blocks (1-based) are copied from the source and which are frozen at the start;
 * `prepareTransfer` (../transfer.ts) applies that to TensorFlow.js networks. Modes are light (no
 * TensorFlow.js): the config, the command line, the report and the docs read their names and
 * texts (registry.ts).
 *
 * The definition grows by optional members, each defaulting to what the prefix modes (`defrost`,
 * `reinit`) do, so a mode never restates what it does not change:
 * - `setting`: what the mode sweeps in place of the depth l (a block index, a decay factor, a
 *   penalty strength); default: the depth, over `transfer.depths`;
 * - `options`: its fixed numeric hyper-parameters (config `transfer.protocols.<mode>`);
 * - `schedule`: its training phases (which blocks learn, at which learning-rate multipliers, with
 *   which pull to the source weights, for how long); default: one phase that trains every block
 *   not frozen until early stopping.
 */
export interface TransferModeDefinition<N extends string = string> {
  /** The name configs (`transfer.modes`) and the command line spell. */
  readonly name: N;
  /** One line for help texts, the report and docs. */
  readonly caption: string;
  /** Its notes in the docs' table of modes, after the caption (notable settings, what it amounts to); absent: none. */
  readonly about?: string;
  /** Blocks copied from the source network at setting `setting` of `blocks`. */
  copied(setting: number, blocks: number): number[];
  /**
   * Blocks frozen throughout at setting `setting` of `blocks`, for a mode without a schedule (the
   * default schedule trains the others); a mode with a schedule says in it what learns when.
   */
  frozen?(setting: number, blocks: number): number[];
  /** What the mode sweeps; absent: the depth l over `transfer.depths`. */
  readonly setting?: SweptSetting;
  /** Its fixed hyper-parameters by name; absent: none. */
  readonly options?: Readonly<Record<string, ModeOption>>;
  /** Its training phases at `setting` (options filled with their defaults); absent: one phase (`singlePhase`). */
  schedule?(setting: number, blocks: number, options: Readonly<Record<string, number>>): TrainingPhase[];
}

/**
 * What a protocol sweeps in place of the depth (docs/science.md, "Two ways to transfer"). A setting that is a depth (blocks 1..l
 * never learn) is the `depth` coordinate of a `transfer` run and the `depth` column of the
 * results; any other setting is the `setting` coordinate and column, in the mode's own meaning.
 */
export interface SweptSetting {
  readonly coordinate: 'depth' | 'setting';
  /** How tables and charts name it: `l`, `b`, `γ`, `α`. */
  readonly symbol: string;
  /** What it is, for help texts and docs. */
  readonly caption: string;
  /** True when only whole numbers are settings. */
  readonly integer: boolean;
  /** The values a study sweeps when the config names none, for a network of `blocks` hidden blocks. */
  defaults(blocks: number, options: Readonly<Record<string, number>>): number[];
  /** Every value `all` stands for (whole-number settings), or null when `all` means nothing. */
  all(blocks: number, options: Readonly<Record<string, number>>): number[] | null;
  /** Why `value` is no setting for a network of `blocks` hidden blocks, or null when it is one. */
  check(value: number, blocks: number, options: Readonly<Record<string, number>>): string | null;
}

/** A fixed numeric hyper-parameter of a mode (config `transfer.protocols.<mode>.<name>`). */
export interface ModeOption {
  readonly default: number;
  readonly min: number;
  readonly integer: boolean;
  /** What it means and where its default comes from, for help texts and docs. */
  readonly describe: string;
}

/**
 * One phase of a transfer's training (the training loop, ../training.ts, applies it). The readout
 * learns in every phase; a phase starts from the weights the previous one kept.
 */
export interface TrainingPhase {
  /** Hidden blocks (1-based) that learn in this phase; the others are frozen. */
  readonly trained: readonly number[];
  /** Learning-rate multiplier of hidden block b at index b - 1 (absent: 1 for every block); the readout's is 1. */
  readonly rateScale?: readonly number[];
  /**
   * L2-SP: the gradient gains alpha (w - w0) for the weights of `anchored` blocks, w0 their value
   * when training started (the source's), and beta w for every other weight that learns.
   */
  readonly pull?: { readonly alpha: number; readonly beta: number; readonly anchored: readonly number[] };
  /** `converge`: until early stopping, within the recipe's budget; else a fixed number of optimizer steps, rounded up to whole epochs. */
  readonly length: 'converge' | { readonly steps: number };
}

/** The schedule of a mode without one: train every block not frozen at the start, until early stopping. */
export function singlePhase(frozen: readonly number[], blocks: number): TrainingPhase[] {
  return [{ trained: blockRange(1, blocks).filter((b) => !frozen.includes(b)), length: 'converge' }];
}

/** The depth l as the swept setting: whole numbers 0..L, `transfer.depths` by default. */
export const DEPTH_SETTING: SweptSetting = {
  coordinate: 'depth',
  symbol: 'l',
  caption: 'depth l: blocks 1..l stay frozen',
  integer: true,
  defaults: (blocks) => blockRange(0, blocks),
  all: (blocks) => blockRange(0, blocks),
  check: (value, blocks) =>
    Number.isInteger(value) && value >= 0 && value <= blocks ? null : `a depth is a whole number in 0..${blocks} (L = ${blocks})`,
};

/** The swept setting of a mode (the depth when it declares none). */
export function settingOf(mode: Pick<TransferModeDefinition, 'setting'>): SweptSetting {
  return mode.setting ?? DEPTH_SETTING;
}

/** The options of `mode`: those given, the others at their defaults (names `mode` does not declare are dropped). */
export function optionsOf(
  mode: Pick<TransferModeDefinition, 'options'>,
  given: Readonly<Record<string, number>> = {},
): Record<string, number> {
  return Object.fromEntries(Object.entries(mode.options ?? {}).map(([name, o]) => [name, given[name] ?? o.default]));
}

/** The schedule of `mode` at `setting` (checked), its options given or defaulted. */
export function scheduleOf(
  mode: TransferModeDefinition,
  setting: number,
  blocks: number,
  options: Readonly<Record<string, number>> = {},
): TrainingPhase[] {
  const filled = optionsOf(mode, options);
  const wrong = settingOf(mode).check(setting, blocks, filled);
  if (wrong !== null) throw new RangeError(`${mode.name}: ${settingOf(mode).symbol} = ${setting}: ${wrong}`);
  if (mode.schedule === undefined) return singlePhase(mode.frozen?.(setting, blocks) ?? [], blocks);
  return mode.schedule(setting, blocks, filled);
}

/** Blocks from..to (1-based, inclusive); empty when to < from. */
export function blockRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/**
 * How many leading hidden blocks of a transfer at `setting` are the source's and never learn, in
 * any phase: the frozen prefix whose activations a transfer may read from a `prefix` artifact
 * instead of computing them every step (docs/performance.md, "Frozen-prefix activations"). The
 * depth l for `defrost` and `reinit`; 0 when the first block learns at some point.
 */
export function frozenPrefix(
  mode: TransferModeDefinition,
  setting: number,
  blocks: number,
  options: Readonly<Record<string, number>> = {},
): number {
  const copied = new Set(mode.copied(setting, blocks));
  const trained = new Set(scheduleOf(mode, setting, blocks, options).flatMap((phase) => phase.trained));
  let depth = 0;
  while (depth < blocks && copied.has(depth + 1) && !trained.has(depth + 1)) depth++;
  return depth;
}

/** A schedule in words, for a run's log: `blocks 3..4 learn until early stopping`, phase by phase. */
export function describeSchedule(schedule: readonly TrainingPhase[]): string {
  return schedule
    .map((phase) => {
      const blocks = phase.trained.length === 0 ? 'the readout alone learns' : `blocks ${phase.trained.join(',')} and the readout learn`;
      const rates =
        phase.rateScale === undefined ? '' : ` at learning-rate multipliers ${phase.rateScale.map((r) => r.toPrecision(3)).join(',')}`;
      const pull =
        phase.pull === undefined ? '' : ` with an L2 pull (alpha ${phase.pull.alpha} to the source weights, beta ${phase.pull.beta})`;
      const length = phase.length === 'converge' ? 'until early stopping' : `for ${phase.length.steps} steps`;
      return `${blocks}${rates}${pull} ${length}`;
    })
    .join('; then ');
}
