/**
 * What a file dataset holds, found at config time without decoding images (docs/your-data.md):
 * its classes and its sample shape, so a study config whose train/test pair disagrees on classes,
 * or whose data do not fit the `source_model` network, exits 2 before anything runs. NumPy and
 * CSV files are read and checked in full (they are cheap to read synchronously); an image folder
 * gives its classes from its sub-folders and its shape from the image options, or else from its
 * first image's header (image-header.ts); an Arrow table is left to `generate-data` (null: not
 * known yet).
 */
import { readImageHeader } from './image-header.js';
import { inputPathKind } from './input-file.js';
import { sortedClassNames } from './labels.js';
import { DataFileError } from './problem.js';
import { finishDataset } from './raw-dataset.js';
import { readCsvDataset } from './read-csv.js';
import { listImageFolder, type ImageOptions } from './read-images.js';
import { readNpyDataset } from './read-npy.js';
import { checkLabelColumnFormat, checkPairClasses, fileFormatOf, type FileDatasetSpec } from './read.js';

export interface FileDatasetProbe {
  /** Class names in label order, or null when not known before reading. */
  readonly classes: readonly string[] | null;
  /** Shape of one sample, or null when not known before decoding. */
  readonly shape: readonly number[] | null;
}

function probePath(path: string, images: ImageOptions, labelColumn: string | undefined): FileDatasetProbe {
  const format = fileFormatOf(path);
  checkLabelColumnFormat(path, format, labelColumn);
  switch (format) {
    case 'images': {
      const folders = listImageFolder(path);
      const classes = sortedClassNames(folders.map((c) => c.className));
      // What the options leave open, the first image decides (as when the folder is decoded).
      const first = images.size !== null && images.channels !== null ? null : readImageHeader(folders[0].files[0]);
      const size = images.size ?? (first === null ? null : [first.height, first.width]);
      const channels = images.channels ?? first?.channels ?? null;
      return { classes, shape: size !== null && channels !== null ? [size[0], size[1], channels] : null };
    }
    case 'npy': {
      const data = finishDataset(readNpyDataset(path, inputPathKind(path) === 'directory'));
      return { classes: data.classes, shape: data.shape };
    }
    case 'csv': {
      const data = finishDataset(readCsvDataset(path, labelColumn));
      return { classes: data.classes, shape: data.shape };
    }
    case 'arrow':
      return { classes: null, shape: null };
  }
}

/** Probes a file dataset; a train/test pair must agree on classes and shape (DataFileError naming both). */
export function probeFileDataset(spec: FileDatasetSpec, images: ImageOptions): FileDatasetProbe {
  if ('path' in spec) return probePath(spec.path, images, spec.label_column);
  const train = probePath(spec.train, images, spec.label_column);
  const test = probePath(spec.test, images, spec.label_column);
  if (train.classes !== null && test.classes !== null) checkPairClasses(spec, train.classes, test.classes);
  if (train.shape !== null && test.shape !== null && train.shape.join('x') !== test.shape.join('x'))
    throw new DataFileError(spec.test, `samples of shape [${test.shape}] but the training data ${spec.train} has [${train.shape}]`);
  return { classes: train.classes, shape: train.shape ?? test.shape };
}
