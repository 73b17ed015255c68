/**
 * The Gram 4 x 4 block kernel as a tiny WebAssembly SIMD module (f64x2), about twice as fast as
 * the plain-TypeScript kernel in `matrix.ts` and bit-identical to it: each lane accumulates one
 * entry c_st = (((0 + u_s0 v_t0) + u_s1 v_t1) + ...) with a separate multiply and add (wasm SIMD
 * has no fused multiply-add), in the same order k = 0..p-1.
 *
 * The module is assembled here from its opcodes (no toolchain needed): one exported function
 * `kernel(a, b, p, out)` over an imported memory holding the packed rows (see `packRows`); `a`
 * and `b` are byte offsets of two packed 4-row groups, `out` receives the 16 results row-major.
 * Where WebAssembly SIMD is unavailable `createBlockKernel` falls back to the TypeScript kernel.
 */
import { block4x4, type BlockKernel } from './block-kernel.js';

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
declare const WebAssembly: WasmApi | undefined;
/** Undefined where the runtime has no WebAssembly (the TypeScript kernel is used then). */
const wasm = typeof WebAssembly === 'undefined' ? undefined : WebAssembly;

export type { BlockKernel } from './block-kernel.js';

const enum Op {
  Block = 0x02,
  Loop = 0x03,
  BrIf = 0x0d,
  End = 0x0b,
  LocalGet = 0x20,
  LocalSet = 0x21,
  LocalTee = 0x22,
  F64Load = 0x2b,
  I32Const = 0x41,
  I32GeU = 0x4f,
  I32LtU = 0x49,
  I32Add = 0x6a,
  I32Shl = 0x74,
  Simd = 0xfd,
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Buffer.from(text, 'utf8')];
}

// SIMD opcodes (after the 0xfd prefix, LEB128-encoded).
const V128_LOAD = [Op.Simd, 0x00];
const V128_STORE = [Op.Simd, 0x0b];
const F64X2_SPLAT = [Op.Simd, 0x14];
const F64X2_ADD = [Op.Simd, ...uleb(240)];
const F64X2_MUL = [Op.Simd, ...uleb(242)];

/** Params: 0 a, 1 b, 2 p, 3 out. Locals: 4 end (i32), 5..12 accumulators, 13 V01, 14 V23 (v128). */
/* eslint-disable @typescript-eslint/no-unused-expressions -- the assembler writes one wasm instruction group per line as a comma sequence */
function kernelBody(): number[] {
  const code: number[] = [];
  const get = (i: number) => code.push(Op.LocalGet, i);
  const set = (i: number) => code.push(Op.LocalSet, i);
  // end = a + p * 32
  (get(0), get(2), code.push(Op.I32Const, 5, Op.I32Shl, Op.I32Add), set(4));
  code.push(Op.Block, 0x40);
  (get(0), get(4), code.push(Op.I32GeU, Op.BrIf, 0));
  code.push(Op.Loop, 0x40);
  (get(1), code.push(...V128_LOAD, 4, 0), set(13)); // V01 = (v0, v1)
  (get(1), code.push(...V128_LOAD, 4, 16), set(14)); // V23 = (v2, v3)
  for (let s = 0; s < 4; s++) {
    for (let half = 0; half < 2; half++) {
      const acc = 5 + 2 * s + half;
      get(acc);
      (get(0), code.push(Op.F64Load, 3, 8 * s, ...F64X2_SPLAT));
      (get(13 + half), code.push(...F64X2_MUL, ...F64X2_ADD));
      set(acc);
    }
  }
  (get(0), code.push(Op.I32Const, 32, Op.I32Add, Op.LocalTee, 0));
  (get(1), code.push(Op.I32Const, 32, Op.I32Add), set(1));
  (get(4), code.push(Op.I32LtU, Op.BrIf, 0));
  code.push(Op.End, Op.End);
  for (let s = 0; s < 4; s++) {
    for (let half = 0; half < 2; half++) {
      (get(3), get(5 + 2 * s + half), code.push(...V128_STORE, 4, ...uleb(32 * s + 16 * half)));
    }
  }
  code.push(Op.End);
  const locals = [2, 1, 0x7f, 10, 0x7b]; // 1 x i32, 10 x v128
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}
/* eslint-enable @typescript-eslint/no-unused-expressions */

function moduleBytes(): Uint8Array {
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('kernel'), 0x00, 0]),
    ...section(10, [1, ...kernelBody()]),
  ];
  return Uint8Array.from(bytes);
}

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not supported. */
function simdModule(): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Whether the SIMD kernel is in use here (`DEFROST_SIMILARITY_SIMD=0` turns it off). */
export function simdAvailable(): boolean {
  return process.env.DEFROST_SIMILARITY_SIMD !== '0' && simdModule() !== null;
}

/**
 * A block kernel over `packed` (`p` features per row): the SIMD one when available (it copies
 * `packed` into its own wasm memory), else the TypeScript one.
 */
export function createBlockKernel(packed: Float64Array, p: number): BlockKernel {
  const module = simdAvailable() ? simdModule() : null;
  if (module === null || wasm === undefined) return (i0, j0, out) => block4x4(packed, p, i0, j0, out);
  const dataBytes = packed.length * 8;
  const pages = Math.ceil((dataBytes + 128) / 65536);
  const memory = new wasm.Memory({ initial: pages });
  new Float64Array(memory.buffer, 0, packed.length).set(packed);
  const instance = new wasm.Instance(module, { env: { memory } });
  const kernel = instance.exports.kernel as (a: number, b: number, p: number, out: number) => void;
  const outOffset = dataBytes;
  const result = new Float64Array(memory.buffer, outOffset, 16);
  return (i0, j0, out) => {
    kernel(i0 * p * 8, j0 * p * 8, p, outOffset);
    out.set(result);
  };
}
