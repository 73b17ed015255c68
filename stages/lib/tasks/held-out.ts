/**
 * `validation: held_out` (docs/protocol.md): the stopping and the selection samples come out of
 * the n target samples a run is given, as a user with n labelled samples would carve them, so
 * the study measures what such a user can achieve and choose.
 *
 * Per class, in the order the rows arrive (a seed's own random order of the pool): a fifth
 * (rounded, at least one when the class has three or more samples) stops the run, the next fifth
 * selects, the rest trains. Stratified, so every class is in every part when it can be, and a
 * pure function of the rows and their order.
 */

/** The fraction of each class that stops runs, and the fraction that selects l*. */
export const HELD_OUT_FRACTION = 0.2;

/** Row positions (into the given labels) of each part. */
export interface HeldOutParts {
  readonly train: Int32Array;
  readonly stopping: Int32Array;
  readonly selection: Int32Array;
}

export function heldOutParts(labels: Int32Array): HeldOutParts {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, row) => {
    const rows = byClass.get(label);
    if (rows === undefined) byClass.set(label, [row]);
    else rows.push(row);
  });
  const train: number[] = [];
  const stopping: number[] = [];
  const selection: number[] = [];
  for (const rows of byClass.values()) {
    const share = rows.length >= 3 ? Math.max(1, Math.round(HELD_OUT_FRACTION * rows.length)) : 0;
    stopping.push(...rows.slice(0, share));
    selection.push(...rows.slice(share, 2 * share));
    train.push(...rows.slice(2 * share));
  }
  const sorted = (xs: number[]): Int32Array => Int32Array.from(xs.sort((a, b) => a - b));
  return { train: sorted(train), stopping: sorted(stopping), selection: sorted(selection) };
}
