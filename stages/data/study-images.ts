/**
 * How a study decodes its image folders (docs/your-data.md): `task.images`, with what it leaves
 * null taken from the `source_model` network's input, as `defrost recommend` does with
 * `--image-size`/`--channels`. The planner puts the result in `generate-data`'s params and the
 * config checks probe the folders with it.
 */
import type { DefrostConfig } from '../config/schema.js';
import type { ImageOptions } from '../lib/formats/read-images.js';
import { studySourceOf } from '../lib/models/source-network/study.js';
import { networkImageOptions } from '../lib/models/source-network/topology.js';

/**
 * The image options of a study's image folders: `task.images`, with what it leaves null taken from
 * the `source_model` network's input (as `defrost recommend` does), so images fit the network.
 */
export function studyImageOptions(config: DefrostConfig): ImageOptions {
  if (config.task.kind !== 'image') return { size: null, channels: null };
  const given = config.task.images;
  const source = config.source_model === null ? null : studySourceOf(config);
  const fromNetwork = source === null ? { size: null, channels: null } : networkImageOptions(source.model.topology.inputShape);
  return { size: given.size ?? fromNetwork.size, channels: given.channels ?? fromNetwork.channels };
}
