/**
 * `import-source` (docs/your-data.md): a pre-trained network (ONNX or TensorFlow.js layers) in the form
 * every transfer reads (`model/`, like a `train-source` output): blocks named `block<i>_...`, a
 * linear readout. Its key is the sha256 of model.json and its weights, and the blocks asked for.
 */
import { StageFailure } from '../../pipeline/errors.js';
import { defineStage, directory, type ContextOf } from '../../pipeline/stage.js';
import { importSourceParams } from './import-params.js';

const declaration = {
  name: 'import-source',
  description: 'a pre-trained network (ONNX or TensorFlow.js) in canonical form (blocks named, readout linear)',
  module: import.meta.url,
  params: importSourceParams,
  inputs: {},
  outputs: { model: directory('model') },
} as const;
export type ImportSourceContext = ContextOf<typeof declaration>;

export const importSourceStage = defineStage({
  ...declaration,
  async run(ctx) {
    const { importSource } = await import('./import-job.js');
    try {
      const summary = await importSource(ctx);
      ctx.log(`blocks ${JSON.stringify(summary.blocks)}, readout ${String(summary.readout)}`);
      return { summary };
    } catch (error) {
      if (error instanceof Error && error.name === 'DataFileError') throw new StageFailure(`import-source: ${error.message}`);
      throw error;
    }
  },
});
