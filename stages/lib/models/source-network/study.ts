/**
 * A study's pre-trained source network (`source_model`, docs/your-data.md), read at config time:
 * the network and its blocks fix L (so `transfer.depths` and the input shape are checked before
 * anything runs), and its sha256 keys the `import-source` instance that replaces every
 * `train-source`. Light (node built-ins and topology.ts): config.ts and the planner use it.
 */
import { resolve } from 'node:path';
import { deriveBlocks, fingerprintSourceModel, readSourceModel, type SourceBlocks, type SourceModelFile } from './topology.js';

/** The keys of a study config that name the network. */
export interface SourceModelKeys {
  readonly source_model: string | null;
  readonly source_blocks: readonly (readonly string[])[] | null;
}

export interface StudySource {
  /** Absolute path of model.json or the .onnx file. */
  readonly path: string;
  readonly model: SourceModelFile;
  readonly blocks: SourceBlocks;
  /** sha256 of the network's files (model.json and its weights, or the .onnx): its identity in cache keys. */
  readonly sha256: string;
}

/** One derivation per network state and blocks: the checks, the run count and the planner all ask. */
const memo = new Map<string, StudySource>();

/**
 * The study's network, or null without `source_model`. Throws a DataFileError (exit 2) naming the
 * file when it cannot be used (unreadable, an unsupported layer, weights that do not match their
 * layers, `source_blocks` naming unknown layers...).
 */
export function studySourceOf(config: SourceModelKeys): StudySource | null {
  if (config.source_model === null) return null;
  const path = resolve(config.source_model);
  // Validated in full (topology.ts), once per state of its files.
  const model = readSourceModel(path);
  const id = `${model.sha256}#${path}#${JSON.stringify(config.source_blocks)}`;
  const known = memo.get(id);
  if (known) return known;
  const blocks = deriveBlocks(path, model.topology, config.source_blocks);
  const source = { path, model, blocks, sha256: fingerprintSourceModel(model) };
  memo.set(id, source);
  return source;
}
