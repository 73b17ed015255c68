/**
 * The work of the `similarity` stage (docs/science.md#comparing-representations): block activations of the source network and of
 * the target reference network on the first `similarity.probe_size` target test inputs, compared
 * block by block with every configured measure, plus linear CKA between every pair of blocks.
 *
 * Output `similarity.arrow`, long format, one row per value (stages/lib/tables/similarity-table.ts).
 * Blocks are 1..L (hidden blocks; the input is not a block). Measure names are the value names of
 * `defrost compare` (lib/measures/registry.ts; A is the source network, B the reference): the
 * `every-pair` measures (`cka`) for every (block_a, block_b) pair (a matrix whose diagonal is the
 * block-by-block value), and for block_a = block_b = l the other configured measures. Rows come in
 * a fixed order: each matrix row by row, then block by block the other measures' values in
 * registry order.
 *
 * With `similarity.save_activations: true` the activations are written as dataset-layout Arrow
 * tables `activations/source_block<l>.arrow` and `activations/reference_block<l>.arrow`
 * (`features` FixedSizeList<Float32>, `label`): `defrost compare` reads them directly.
 *
 * Heavy (TensorFlow.js, Arrow): `similarity.ts` loads this module with `await import(...)`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { StageOutcome } from '../../pipeline/stage.js';
import { readDataset, writeDataset, type Dataset } from '../lib/tables/dataset-table.js';
import { hiddenBlockOutputs, loadNetwork } from '../lib/models/models.js';
import { compareRepresentations, allMeasures, measureOf, Representation, type MeasureName } from '../lib/measures/index.js';
import { finiteOrNull } from '../lib/statistics.js';
import { SIMILARITY, type SimilarityRow } from '../lib/tables/similarity-table.js';
import type { SimilarityContext } from './similarity.js';

/** Activations of every hidden block of the network in `modelDir`, as N x width Float32 arrays. */
async function blockActivations(modelDir: string, probes: Dataset, label: string): Promise<Float32Array[]> {
  let model: tf.LayersModel;
  try {
    model = await loadNetwork(modelDir);
  } catch (error) {
    throw new StageFailure(`similarity: cannot load the ${label} network from ${modelDir}: ${(error as Error).message}`);
  }
  const x = tf.tensor2d(probes.features, [probes.rows, probes.features.length / Math.max(1, probes.rows)]);
  try {
    const outputs = hiddenBlockOutputs(model, x);
    const values = outputs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outputs);
    return values;
  } finally {
    x.dispose();
    model.dispose();
  }
}

function toRepresentation(values: Float32Array, rows: number): Representation {
  return new Representation({ rows, cols: values.length / rows, data: Float64Array.from(values) });
}

export async function runSimilarity(ctx: SimilarityContext): Promise<StageOutcome> {
  const { correlation } = ctx.params;
  const { probe_size: probeSize, measures, k, rbf_sigma: rbfSigma, save_activations: saveActivations } = ctx.params.similarity;
  const testFile = ctx.inputs.data.path('test');
  let probes: Dataset;
  try {
    probes = readDataset(testFile, probeSize);
  } catch (error) {
    throw new StageFailure(`similarity: cannot read the probe inputs ${testFile}: ${(error as Error).message}`);
  }
  if (probes.rows < probeSize) {
    throw new StageFailure(`similarity: similarity.probe_size = ${probeSize} but ${testFile} has only ${probes.rows} rows`);
  }
  if (k >= probes.rows) throw new StageFailure(`similarity: similarity.k = ${k} must be less than the ${probes.rows} probes`);
  ctx.log(`probes: ${probes.rows} target test inputs of shape [${probes.shape}]`);

  const source = await blockActivations(ctx.inputs.source.path('model'), probes, 'source');
  const reference = await blockActivations(ctx.inputs.reference.path('model'), probes, 'reference');
  if (source.length !== reference.length) {
    throw new StageFailure(`similarity: the source network has ${source.length} hidden blocks, the reference ${reference.length}`);
  }
  const L = source.length;
  const n = probes.rows;
  ctx.log(`blocks: ${L}; widths source [${source.map((a) => a.length / n)}], reference [${reference.map((a) => a.length / n)}]`);

  if (saveActivations) {
    const dir = ctx.output('activations');
    await mkdir(dir, { recursive: true });
    const provenance = { stage: 'similarity', correlation, probe_size: probeSize };
    for (let l = 1; l <= L; l++) {
      for (const [network, values] of [
        ['source', source[l - 1]],
        ['reference', reference[l - 1]],
      ] as const) {
        const width = values.length / n;
        writeDataset(join(dir, `${network}_block${l}.arrow`), {
          features: values,
          labels: probes.labels,
          rows: n,
          shape: [width],
          classes: probes.classes,
          provenance: { ...provenance, network, block: l },
        });
      }
    }
  }

  const a = source.map((v) => toRepresentation(v, n));
  const b = reference.map((v) => toRepresentation(v, n));
  for (const r of [...a, ...b]) await r.prepare(ctx.threads);
  const options = { k, rbfSigma };
  const configured: readonly MeasureName[] = measures;
  const rows: SimilarityRow[] = [];
  // The every-pair measures (a matrix each), always; their diagonals are their per-block values.
  const diagonal = new Map<string, (number | null)[]>();
  for (const measure of allMeasures().filter((m) => m.blocks === 'every-pair')) {
    for (let la = 1; la <= L; la++) {
      for (let lb = 1; lb <= L; lb++) {
        const values = measure.compute(a[la - 1], b[lb - 1], options);
        measure.values.forEach(({ name }, i) => {
          const value = finiteOrNull(values[i]);
          rows.push({ correlation, block_a: la, block_b: lb, measure: name, value });
          if (la === lb) diagonal.set(name, [...(diagonal.get(name) ?? []), value]);
        });
      }
    }
  }
  const perBlock = allMeasures()
    .filter((m) => m.blocks === 'same-block' && configured.includes(m.name))
    .map((m) => m.name);
  const headline: Record<string, (number | null)[]> = {};
  for (let l = 1; l <= L; l++) {
    if (ctx.signal.aborted) throw new StageFailure('similarity: interrupted');
    ctx.progress({ message: `block ${l}/${L}`, step: l, steps: L });
    const values = compareRepresentations(a[l - 1], b[l - 1], perBlock, options);
    for (const [measure, value] of Object.entries(values)) {
      rows.push({ correlation, block_a: l, block_b: l, measure, value: finiteOrNull(value) });
    }
    for (const measure of configured.map(measureOf)) {
      for (const { name } of measure.values) {
        const value = measure.blocks === 'every-pair' ? (diagonal.get(name)?.[l - 1] ?? null) : finiteOrNull(values[name]);
        (headline[name] ??= []).push(value === null ? null : Number(value.toPrecision(6)));
      }
    }
    ctx.log(
      `block ${l}: ${[...diagonal.keys()].map((name) => `${name}=${headline[name]?.[l - 1] ?? '-'}`).join(' ')} ${Object.entries(values)
        .map(([m, v]) => `${m}=${v.toFixed(4)}`)
        .join(' ')}`,
    );
  }

  await SIMILARITY.write(ctx.output('similarity'), rows);
  return { summary: { probes: n, blocks: L, ...headline } };
}
