/**
 * The controlled task model of docs/science.md#the-controlled-task-model: a random nonlinear feature map of Gaussian latents and a
 * two-level random teacher, so that networks trained on it need low-level features (shared by
 * correlated tasks, through F and A) and a task-specific readout (B).
 *
 *   z ~ N(0, I_D)                           latents, one row per sample
 *   x = tanh(z F / sqrt(D))                 F in R^{D x N}   inputs
 *   h = relu(z A / sqrt(D)) - 1/sqrt(2 pi)  A in R^{D x K}   (K = 0: h = z)
 *   y = argmax_c (h B)_c                    B in R^{K x C}   (K = 0: B in R^{D x C})
 *
 * A target task with correlations (rho_f, rho_r) mixes every source matrix M with a fresh one M'
 * as rho M + sqrt(1 - rho^2) M' (rho_f for F and A, rho_r for B). The fresh matrices depend only
 * on the seed, not on rho, so a correlation sweep moves continuously away from the source.
 *
 * Everything is a pure function of (seed, sizes): matrices and samples come from named streams of
 * `Rng`, so changing one draw never shifts another. The functions take latents as arguments so
 * tests can feed the same latents to source and target. Computation is in float64, row-major.
 */
import { Rng } from '../random.js';

/** Dimensions of a synthetic task: D, N, K, C. */
export interface SyntheticShape {
  readonly latentDim: number;
  readonly inputDim: number;
  /** K; 0 makes the rule linear in z. */
  readonly teacherHidden: number;
  readonly classes: number;
}

/** The random matrices that define one task, row-major float64. */
export interface Teacher {
  readonly shape: SyntheticShape;
  /** D x N feature map. */
  readonly F: Float64Array;
  /** D x K first teacher layer; empty when K = 0. */
  readonly A: Float64Array;
  /** K x C (or D x C when K = 0) teacher readout. */
  readonly B: Float64Array;
}

/** 1/sqrt(2 pi) = E[relu(g)] for g ~ N(0,1): centres the teacher's hidden units. */
const RELU_MEAN = 1 / Math.sqrt(2 * Math.PI);

function readoutRows(shape: SyntheticShape): number {
  return shape.teacherHidden === 0 ? shape.latentDim : shape.teacherHidden;
}

function gaussian(rng: Rng, length: number): Float64Array {
  return rng.fillNormal(new Float64Array(length));
}

/** The task stream of a seed: all teacher matrices derive from it. */
function taskRng(seed: number): Rng {
  return new Rng(seed, 'synthetic-task');
}

/** Matrices drawn from streams `<prefix>F`, `<prefix>A`, `<prefix>B` of the task stream. */
function drawTeacher(seed: number, shape: SyntheticShape, prefix: string): Teacher {
  const rng = taskRng(seed);
  const { latentDim: D, inputDim: N, teacherHidden: K, classes: C } = shape;
  return {
    shape,
    F: gaussian(rng.fork(`${prefix}F`), D * N),
    A: gaussian(rng.fork(`${prefix}A`), D * K),
    B: gaussian(rng.fork(`${prefix}B`), readoutRows(shape) * C),
  };
}

/** The source task of a seed. */
export function sourceTeacher(seed: number, shape: SyntheticShape): Teacher {
  return drawTeacher(seed, shape, '');
}

/** rho M + sqrt(1 - rho^2) M', elementwise. rho = 1 returns M exactly. */
export function mixMatrices(m: Float64Array, fresh: Float64Array, rho: number): Float64Array {
  if (rho === 1) return m.slice();
  const s = Math.sqrt(Math.max(0, 1 - rho * rho));
  const out = new Float64Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = rho * m[i] + s * fresh[i];
  return out;
}

/**
 * The target task of a seed at feature correlation `rhoF` (mixes F and A) and rule correlation
 * `rhoR` (mixes B). It re-derives the source matrices, so it needs no input artifact.
 */
export function targetTeacher(seed: number, shape: SyntheticShape, rhoF: number, rhoR: number): Teacher {
  const source = sourceTeacher(seed, shape);
  const fresh = drawTeacher(seed, shape, 'fresh/');
  return {
    shape,
    F: mixMatrices(source.F, fresh.F, rhoF),
    A: mixMatrices(source.A, fresh.A, rhoF),
    B: mixMatrices(source.B, fresh.B, rhoR),
  };
}

/** rows x D standard normal latents, row-major. */
export function drawLatents(rng: Rng, rows: number, latentDim: number): Float64Array {
  return gaussian(rng, rows * latentDim);
}

/**
 * x = tanh(z F / sqrt(D)) (+ N(0, sigma^2) when `inputNoise` > 0, drawn from `noiseRng` row by
 * row, so a prefix of the rows is the same whatever the total).
 */
export function featuresOf(teacher: Teacher, z: Float64Array, rows: number, inputNoise = 0, noiseRng?: Rng): Float32Array {
  const { latentDim: D, inputDim: N } = teacher.shape;
  const F = teacher.F;
  const scale = 1 / Math.sqrt(D);
  const out = new Float32Array(rows * N);
  const acc = new Float64Array(N);
  if (inputNoise > 0 && !noiseRng) throw new Error('featuresOf: input noise needs a noise stream');
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    const zo = r * D;
    for (let d = 0; d < D; d++) {
      const zv = z[zo + d];
      const fo = d * N;
      for (let j = 0; j < N; j++) acc[j] += zv * F[fo + j];
    }
    const xo = r * N;
    for (let j = 0; j < N; j++) out[xo + j] = Math.tanh(acc[j] * scale);
    if (inputNoise > 0) for (let j = 0; j < N; j++) out[xo + j] += inputNoise * (noiseRng as Rng).normal();
  }
  return out;
}

/** Teacher scores h B per row (rows x C), before the argmax. */
export function teacherScores(teacher: Teacher, z: Float64Array, rows: number): Float64Array {
  const { latentDim: D, teacherHidden: K, classes: C } = teacher.shape;
  const { A, B } = teacher;
  const scale = 1 / Math.sqrt(D);
  const H = readoutRows(teacher.shape);
  const h = new Float64Array(H);
  const scores = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const zo = r * D;
    if (K === 0) {
      for (let d = 0; d < D; d++) h[d] = z[zo + d];
    } else {
      h.fill(0);
      for (let d = 0; d < D; d++) {
        const zv = z[zo + d];
        const ao = d * K;
        for (let k = 0; k < K; k++) h[k] += zv * A[ao + k];
      }
      for (let k = 0; k < K; k++) {
        const pre = h[k] * scale;
        h[k] = (pre > 0 ? pre : 0) - RELU_MEAN;
      }
    }
    const so = r * C;
    for (let k = 0; k < H; k++) {
      const hv = h[k];
      const bo = k * C;
      for (let c = 0; c < C; c++) scores[so + c] += hv * B[bo + c];
    }
  }
  return scores;
}

/** y = argmax_c (h B)_c (the first maximum on a tie). */
export function labelsOf(teacher: Teacher, z: Float64Array, rows: number): Int32Array {
  const C = teacher.shape.classes;
  const scores = teacherScores(teacher, z, rows);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestScore = scores[r * C];
    for (let c = 1; c < C; c++) {
      const s = scores[r * C + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    labels[r] = best;
  }
  return labels;
}

/**
 * Replaces each label, independently with probability `fraction`, by a uniformly random class (which
 * may equal the old one). Row by row from `rng`, so prefixes are stable. Returns how many rows were
 * redrawn.
 */
export function applyLabelNoise(labels: Int32Array, fraction: number, classes: number, rng: Rng): number {
  if (fraction <= 0) return 0;
  let redrawn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (rng.uniform() < fraction) {
      labels[i] = rng.int(classes);
      redrawn++;
    }
  }
  return redrawn;
}

/** One generated split of a synthetic task. */
export interface SyntheticSet {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

export interface SyntheticSetOptions {
  readonly rows: number;
  /** Stream of this split (e.g. `source/train`): its latents and noise derive from it. */
  readonly stream: string;
  readonly labelNoise: number;
  readonly inputNoise: number;
}

/**
 * One split (`rows` samples) of a task: latents from `data/<stream>/z`, input noise from
 * `.../input-noise`, label noise from `.../label-noise`, all under the data stream of `seed`.
 */
export function generateSyntheticSet(seed: number, teacher: Teacher, options: SyntheticSetOptions): SyntheticSet {
  const data = new Rng(seed, 'synthetic-data').fork(options.stream);
  const z = drawLatents(data.fork('z'), options.rows, teacher.shape.latentDim);
  const features = featuresOf(teacher, z, options.rows, options.inputNoise, data.fork('input-noise'));
  const labels = labelsOf(teacher, z, options.rows);
  applyLabelNoise(labels, options.labelNoise, teacher.shape.classes, data.fork('label-noise'));
  return { features, labels, rows: options.rows };
}
