/**
 * Dataset tables and networks read from a stage's inputs through the worker memo
 * (pipeline/worker-memo.ts, docs/performance.md "Per-instance overhead"): parsed or loaded once
 * per process for the bytes their digest names, then shared by every later instance that reads
 * the same bytes (the transfers of one cell read one target dataset, one source network and one
 * cached prefix).
 *
 * Shared values are never changed: a dataset is a read-only view (a run's training subset is a
 * copy, `rowsOf`), and a source network is only read (`prepareTransfer` copies its weights into
 * the target network; `targetNetworkLike` reads its topology). Whoever gets one must not dispose
 * it: the memo does, when it drops it.
 *
 * Heavy (TensorFlow.js, Arrow): imported only by job modules.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Memo, MemoSlot } from '../../../pipeline/worker-memo.js';
import { readDataset, type Dataset } from '../tables/dataset-table.js';
import { loadNetwork } from './models.js';

/** An input's outputs as a stage reads them: where a file is and the digest of its bytes. */
export interface DigestedInput<N extends string> {
  path(output: N): string;
  digest(output: N): string;
}

/** Parsed dataset tables; one buffer holds a table's features and labels. */
const DATASETS: MemoSlot<Dataset> = {
  name: 'dataset',
  bytes: (d) => d.features.buffer.byteLength + (d.labels.buffer === d.features.buffer ? 0 : d.labels.byteLength),
};

/** Object overhead counted for a network besides its weights (layers, configs, symbolic tensors). */
const NETWORK_OVERHEAD_BYTES = 1 << 16;

/** Loaded networks: float32 weights in tensors, released by `dispose`. */
const NETWORKS: MemoSlot<tf.LayersModel> = {
  name: 'network',
  bytes: (model) => model.countParams() * 4 + NETWORK_OVERHEAD_BYTES,
  dispose: (model) => model.dispose(),
};

/** The dataset table `output` of `input` (`readDataset`), shared; never change it. */
export function memoisedDataset<N extends string>(memo: Memo, input: DigestedInput<N>, output: N): Promise<Dataset> {
  return memo.get(DATASETS, input.digest(output), () => readDataset(input.path(output)));
}

/** The network `output` of `input` (`loadNetwork`), shared: read it, never train or dispose it. */
export function memoisedNetwork<N extends string>(memo: Memo, input: DigestedInput<N>, output: N): Promise<tf.LayersModel> {
  return memo.get(NETWORKS, input.digest(output), () => loadNetwork(input.path(output)));
}
