/**
 * wasm-blas convolution kernels (Conv2D, _FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter),
 * MaxPoolGrad and Sum against the cpu backend on randomised shapes: every padding mode (same,
 * valid, explicit), strides, dilations, odd sizes and size-1 dims; plus the JavaScript
 * Conv2DBackpropFilter that plain wasm uses (NHWC and NCHW).
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../stages/lib/random.js';
import { assertMatchesCpu, randomArray, randomInt, requireAddon } from './kernels-helpers.js';

before(() => requireAddon());

const rng = new Rng(5, 'test/kernels-conv');

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
  label: string;
}

function explicitPad(): Pad {
  return [
    [0, 0],
    [randomInt(rng, 0, 2), randomInt(rng, 0, 2)],
    [randomInt(rng, 0, 2), randomInt(rng, 0, 2)],
    [0, 0],
  ];
}

/** Random cases covering each padding mode with strides or dilations (tfjs allows not both > 1). */
function convCases(withDilations: boolean): ConvCase[] {
  const cases: ConvCase[] = [];
  const pads: Array<() => Pad> = [() => 'same', () => 'valid', explicitPad];
  for (const makePad of pads) {
    for (const variant of ['plain', 'strided', 'dilated', 'pointwise', 'size-1'] as const) {
      if (variant === 'dilated' && !withDilations) continue;
      const pad = makePad();
      const batch = variant === 'size-1' ? 1 : randomInt(rng, 1, 3);
      const inC = variant === 'size-1' ? 1 : randomInt(rng, 1, 5);
      const outC = variant === 'size-1' ? 1 : randomInt(rng, 1, 6);
      const fh = variant === 'pointwise' ? 1 : randomInt(rng, 1, 3);
      const fw = variant === 'pointwise' ? 1 : randomInt(rng, 2, 4);
      const stride = variant === 'strided' ? randomInt(rng, 2, 3) : 1;
      const dilation = variant === 'dilated' ? 2 : 1;
      const h = randomInt(rng, (fh - 1) * dilation + 1, 11);
      const w = randomInt(rng, (fw - 1) * dilation + 1, 12);
      cases.push({
        x: [batch, h, w, inC],
        filter: [fh, fw, inC, outC],
        strides: [stride, variant === 'strided' ? randomInt(rng, 1, 3) : 1],
        dilations: [dilation, dilation],
        pad,
        label: `${variant} x=[${batch},${h},${w},${inC}] f=[${fh},${fw},${inC},${outC}] pad=${JSON.stringify(pad)}`,
      });
    }
  }
  return cases;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

test('Conv2D matches cpu for every padding mode, strides, dilations and odd sizes', async () => {
  for (const c of convCases(true)) {
    const xv = randomArray(rng, size(c.x));
    const fv = randomArray(rng, size(c.filter));
    await assertMatchesCpu(
      `conv2d ${c.label} strides=${c.strides} dilations=${c.dilations}`,
      () => tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.filter), c.strides, c.pad, 'NHWC', c.dilations),
      'wasm-blas',
      1e-4,
      'conv2d',
    );
  }
});

test('_FusedConv2D matches cpu with bias and activations', async () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  const cases = convCases(true);
  for (const [i, activation] of activations.entries()) {
    const c = cases[(i * 5) % cases.length];
    const outC = c.filter[3];
    const xv = randomArray(rng, size(c.x));
    const fv = randomArray(rng, size(c.filter));
    const bv = randomArray(rng, outC);
    const av = randomArray(rng, outC, 0.5);
    await assertMatchesCpu(
      `fused conv2d ${activation} ${c.label}`,
      () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv, c.x),
          filter: tf.tensor4d(fv, c.filter),
          strides: c.strides,
          pad: c.pad,
          dilations: c.dilations,
          bias: tf.tensor1d(bv),
          activation,
          preluActivationWeights: activation === 'prelu' ? tf.tensor1d(av) : undefined,
          leakyreluAlpha: 0.3,
        }),
      'wasm-blas',
      1e-4,
      'conv2d',
    );
  }
});

function outputShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
}

test('Conv2DBackpropInput matches cpu for every padding mode and strides', async () => {
  for (const c of convCases(false)) {
    const outShape = outputShape(c);
    const dyv = randomArray(rng, size(outShape));
    const fv = randomArray(rng, size(c.filter));
    await assertMatchesCpu(
      `conv2dBackpropInput ${c.label} strides=${c.strides}`,
      () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dyv, outShape), filter: tf.tensor4d(fv, c.filter) }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          inputShape: c.x,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      'wasm-blas',
      1e-4,
      'conv2dBackpropInput',
    );
  }
});

function backpropFilter(c: ConvCase, xv: Float32Array, dyv: Float32Array, outShape: number[], nchw = false): tf.Tensor {
  const toNchw = (t: tf.Tensor) => (nchw ? tf.transpose(t, [0, 3, 1, 2]) : t);
  return tf.engine().runKernel('Conv2DBackpropFilter', { x: toNchw(tf.tensor4d(xv, c.x)), dy: toNchw(tf.tensor(dyv, outShape)) }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: nchw ? 'NCHW' : 'NHWC',
    dimRoundingMode: undefined,
    filterShape: c.filter,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

test('Conv2DBackpropFilter matches cpu for every padding mode and strides', async () => {
  for (const c of convCases(false)) {
    const outShape = outputShape(c);
    const xv = randomArray(rng, size(c.x));
    const dyv = randomArray(rng, size(outShape));
    await assertMatchesCpu(
      `conv2dBackpropFilter ${c.label} strides=${c.strides}`,
      () => backpropFilter(c, xv, dyv, outShape),
      'wasm-blas',
      1e-4,
      'conv2dBackpropFilter',
    );
  }
});

test('plain wasm: the JavaScript Conv2DBackpropFilter matches cpu (NHWC and NCHW)', async () => {
  for (const c of convCases(false).filter((_, i) => i % 2 === 0)) {
    if (Array.isArray(c.pad)) continue; // explicit padding is NHWC-only in tfjs's NCHW path
    const outShape = outputShape(c);
    const xv = randomArray(rng, size(c.x));
    const dyv = randomArray(rng, size(outShape));
    await assertMatchesCpu(`js conv2dBackpropFilter NHWC ${c.label}`, () => backpropFilter(c, xv, dyv, outShape), 'wasm');
    await assertMatchesCpu(`js conv2dBackpropFilter NCHW ${c.label}`, () => backpropFilter(c, xv, dyv, outShape, true), 'wasm');
  }
});

test('MaxPoolGrad matches cpu (padding, strides, ties) and Sum over leading axes', async () => {
  const poolCases: Array<{
    x: [number, number, number, number];
    filter: [number, number];
    strides: [number, number];
    pad: 'same' | 'valid' | number;
    ties: boolean;
  }> = [
    { x: [2, 8, 8, 3], filter: [2, 2], strides: [2, 2], pad: 'valid', ties: false },
    { x: [1, 7, 9, 2], filter: [3, 3], strides: [2, 2], pad: 'same', ties: false },
    { x: [3, 5, 5, 1], filter: [2, 3], strides: [1, 2], pad: 1, ties: false },
    { x: [2, 6, 6, 4], filter: [2, 2], strides: [1, 1], pad: 'valid', ties: true },
  ];
  for (const c of poolCases) {
    const xv = randomArray(rng, size(c.x)).map((v) => (c.ties ? Math.round(v * 2) : v));
    await assertMatchesCpu(
      `maxPool gradient x=[${c.x}] filter=${c.filter} strides=${c.strides} pad=${c.pad}${c.ties ? ' with ties' : ''}`,
      () => {
        const x = tf.tensor4d(xv, c.x);
        const pooled = tf.maxPool(x, c.filter, c.strides, c.pad);
        const weights = tf.tensor(randomArray(new Rng(1, 'w'), pooled.size), pooled.shape);
        return tf.grad((input: tf.Tensor) =>
          tf
            .maxPool(input as tf.Tensor4D, c.filter, c.strides, c.pad)
            .mul(weights)
            .sum(),
        )(x);
      },
      'wasm-blas',
      1e-4,
      'maxPoolGrad',
    );
  }
  const xv = randomArray(rng, 4 * 9 * 7 * 5);
  await assertMatchesCpu('sum over [0,1,2]', () => tf.sum(tf.tensor4d(xv, [4, 9, 7, 5]), [0, 1, 2]), 'wasm-blas', 1e-5, 'sumLeadingAxes');
  await assertMatchesCpu(
    'sum over [0,1] keepDims',
    () => tf.sum(tf.tensor4d(xv, [4, 9, 7, 5]), [1, 0], true),
    'wasm-blas',
    1e-5,
    'sumLeadingAxes',
  );
  await assertMatchesCpu('sum over [1,3] (stock kernel)', () => tf.sum(tf.tensor4d(xv, [4, 9, 7, 5]), [1, 3]), 'wasm-blas', 1e-5);
});

test('Conv2D and its filter gradient: fixed-channel direct loops and im2col + sgemm both match cpu (DEFROST_CONV_DIRECT=1/0)', async () => {
  const saved = process.env.DEFROST_CONV_DIRECT;
  try {
    for (const mode of ['1', '0']) {
      process.env.DEFROST_CONV_DIRECT = mode;
      const pads: Pad[] = ['same', 'valid', explicitPad()];
      for (const [i, outC] of [8, 16, 32, 64, 16, 32].entries()) {
        const inC = randomInt(rng, 1, 7);
        const dilation = i === 4 ? 2 : 1;
        const stride = i === 5 ? 2 : 1;
        const c: ConvCase = {
          x: [randomInt(rng, 1, 3), randomInt(rng, 5, 10), randomInt(rng, 5, 10), inC],
          filter: [3, randomInt(rng, 1, 3), inC, outC],
          strides: [stride, stride],
          dilations: [dilation, dilation],
          pad: pads[i % pads.length],
          label: '',
        };
        const xv = randomArray(rng, size(c.x));
        const fv = randomArray(rng, size(c.filter));
        const bv = randomArray(rng, outC);
        await assertMatchesCpu(
          `conv2d DEFROST_CONV_DIRECT=${mode} x=[${c.x}] f=[${c.filter}] pad=${JSON.stringify(c.pad)} s=${stride} d=${dilation}`,
          () =>
            tf.fused.conv2d({
              x: tf.tensor4d(xv, c.x),
              filter: tf.tensor4d(fv, c.filter),
              strides: c.strides,
              pad: c.pad,
              dilations: c.dilations,
              bias: tf.tensor1d(bv),
              activation: i % 2 === 0 ? 'relu' : 'elu',
            }),
          'wasm-blas',
          1e-4,
          'conv2d',
        );
        const c1 = { ...c, dilations: [1, 1] as [number, number] };
        const outShape = outputShape(c1);
        const dyv = randomArray(rng, size(outShape));
        await assertMatchesCpu(
          `conv2dBackpropFilter DEFROST_CONV_DIRECT=${mode} x=[${c.x}] f=[${c.filter}] pad=${JSON.stringify(c.pad)} s=${stride}`,
          () => backpropFilter(c1, xv, dyv, outShape),
          'wasm-blas',
          1e-4,
          'conv2dBackpropFilter',
        );
      }
    }
  } finally {
    if (saved === undefined) delete process.env.DEFROST_CONV_DIRECT;
    else process.env.DEFROST_CONV_DIRECT = saved;
  }
});
