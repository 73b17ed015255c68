/**
 * The Gram 4 x 4 block kernel in plain TypeScript: the reference that the WebAssembly SIMD kernel
 * (`simd-kernel.ts`) reproduces bit for bit, and its fallback. A module of its own so that
 * `matrix.ts` and `simd-kernel.ts` both use it without importing each other.
 */

/** Computes the 4 x 4 block of packed row groups i0 and j0 into `out` (16 values, row-major). */
export type BlockKernel = (i0: number, j0: number, out: Float64Array) => void;

/** 4 x 4 block of dot products between packed row groups i0 and j0, each summed over k in order. */
export function block4x4(packed: Float64Array, p: number, i0: number, j0: number, out: Float64Array): void {
  const a = i0 * p;
  const b = j0 * p;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let k = 0; k < p; k++) {
    const ka = a + 4 * k;
    const kb = b + 4 * k;
    const u0 = packed[ka],
      u1 = packed[ka + 1],
      u2 = packed[ka + 2],
      u3 = packed[ka + 3];
    const v0 = packed[kb],
      v1 = packed[kb + 1],
      v2 = packed[kb + 2],
      v3 = packed[kb + 3];
    c00 += u0 * v0;
    c01 += u0 * v1;
    c02 += u0 * v2;
    c03 += u0 * v3;
    c10 += u1 * v0;
    c11 += u1 * v1;
    c12 += u1 * v2;
    c13 += u1 * v3;
    c20 += u2 * v0;
    c21 += u2 * v1;
    c22 += u2 * v2;
    c23 += u2 * v3;
    c30 += u3 * v0;
    c31 += u3 * v1;
    c32 += u3 * v2;
    c33 += u3 * v3;
  }
  out[0] = c00;
  out[1] = c01;
  out[2] = c02;
  out[3] = c03;
  out[4] = c10;
  out[5] = c11;
  out[6] = c12;
  out[7] = c13;
  out[8] = c20;
  out[9] = c21;
  out[10] = c22;
  out[11] = c23;
  out[12] = c30;
  out[13] = c31;
  out[14] = c32;
  out[15] = c33;
}
