/**
 * `transfer` (docs/science.md#transfer-modes, docs/training.md): one run of the transfer protocol
 * at (correlation, n, mode, depth, seed): a fresh target network that the mode
 * (lib/models/transfer-modes/) makes of the source network at that depth, fine-tuned with a new
 * readout. Stores the curve and test metrics (not the network: nothing reads it).
 */
import { input, inputs, type ContextOf } from '../../pipeline/stage.js';
import { generateDataStage } from '../data/generate-data.js';
import { importSourceStage } from '../data/import-source.js';
import { prefixStage } from './prefix.js';
import { raceStage } from './race-stage.js';
import { trainSourceStage } from './train-source.js';
import { TRAINING_OUTPUTS, trainingStage, transferParams } from './training-stage.js';

const declaration = {
  name: 'transfer',
  description: 'transfer the source network at one depth and mode, fine-tune on n target samples',
  module: import.meta.url,
  params: transferParams,
  /** The source network: trained by the study, or the imported `source_model` (docs/your-data.md). */
  inputs: {
    data: input(generateDataStage),
    source: input(trainSourceStage, importSourceStage),
    /**
     * The source's block-l outputs on this data, for a transfer that keeps blocks 1..l frozen
     * (docs/performance.md, "Frozen-prefix activations"): when cached, only blocks l+1..L and the
     * readout run, on them. Empty at l = 0 or with `transfer.prefix_cache_gb: 0`.
     */
    prefix: inputs(prefixStage),
    /**
     * The cell's early-elimination look before this replicate (`transfer.eliminate`,
     * docs/protocol.md#early-elimination-in-a-study): when it has stopped this depth, the transfer
     * trains nothing and records so. Empty without elimination and for the first replicates.
     */
    race: inputs(raceStage),
  },
  outputs: TRAINING_OUTPUTS,
} as const;

/** What `training-job.ts` gets: the context of this declaration. */
export type TransferContext = ContextOf<typeof declaration>;

export const transferStage = trainingStage({ ...declaration, job: (job, ctx) => job.runTransfer(ctx) });
