/**
 * Image-folder datasets (docs/your-data.md): one sub-folder per class, holding PNG or JPEG files.
 * Images are decoded with sharp (libvips, shipped as npm packages), resized to `size`
 * ([height, width], stretched to fill) and converted to `channels` (1: grey, 3: RGB, alpha
 * dropped), scaled to [0, 1] in HWC order. Without a size, every image must have the first
 * image's size; without a channel count, the first image decides (grey -> 1, else 3).
 * Hidden files (dot files) are ignored; any other file that is not a readable PNG/JPEG, or a
 * class folder without images, is refused with its path.
 */
import { readdirSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { checkInsideFolder, envLimit, INPUT_LIMIT_ENV, inputLimitBytes, inputPathKind, readInputFile } from './input-file.js';
import { DataFileError } from './problem.js';
import type { RawDataset, ReadFile } from './raw-dataset.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** How images are brought to one input shape. */
export interface ImageOptions {
  /** [height, width]; null: keep the first image's size (then all must share it). */
  readonly size: readonly [number, number] | null;
  /** 1 or 3; null: the first image decides. */
  readonly channels: 1 | 3 | null;
}

/** Environment variable raising the pixel limit of one image (height x width). */
export const IMAGE_PIXELS_ENV = 'DEFROST_MAX_IMAGE_PIXELS';
const DEFAULT_IMAGE_PIXELS = 4096 * 4096;

/** The most pixels (height x width) one image may have, decoded or resized to. */
export function imagePixelLimit(): number {
  return envLimit(IMAGE_PIXELS_ENV, DEFAULT_IMAGE_PIXELS);
}

/**
 * Why an image size is refused (more pixels than `imagePixelLimit`), or null: checked on
 * `--image-size`, `task.images.size` and every image's own size before anything is decoded.
 */
export function imageSizeProblem(size: readonly [number, number]): string | null {
  const limit = imagePixelLimit();
  if (size[0] * size[1] <= limit) return null;
  return (
    `${size[0]}x${size[1]} pixels is more than the ${limit} pixels (${Math.floor(Math.sqrt(limit))}x${Math.floor(Math.sqrt(limit))}) ` +
    `allowed for one image; raise the limit with ${IMAGE_PIXELS_ENV}=<pixels> if the machine has the memory`
  );
}

/**
 * The images of an image folder, per class folder, in sorted order (the folder's listing). The
 * folder is one unit: every entry is checked with lstat, and a symbolic link may lead only to a
 * file inside the folder (input-file.ts); a dangling link, a loop, a FIFO or a device is refused.
 */
export function listImageFolder(root: string): { className: string; files: string[] }[] {
  const entries = readdirSync(root, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  for (const e of entries) if (e.isSymbolicLink()) checkInsideFolder(root, join(root, e.name));
  const stray = entries.find((e) => inputPathKind(join(root, e.name)) !== 'directory');
  if (stray) throw new DataFileError(join(root, stray.name), 'an image folder holds one sub-folder per class, and no other files');
  const classes = entries.map((e) => e.name).sort();
  if (classes.length === 0) throw new DataFileError(root, 'no class sub-folders (expected one sub-folder of images per class)');
  return classes.map((className) => {
    const dir = join(root, className);
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((e) => {
        const f = join(dir, e.name);
        if (e.isSymbolicLink()) checkInsideFolder(root, f);
        if (inputPathKind(f) === 'directory') throw new DataFileError(f, 'a folder inside a class folder (expected PNG/JPEG files only)');
        if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
          throw new DataFileError(f, `not an image file: allowed extensions ${IMAGE_EXTENSIONS.join(', ')}`);
        return f;
      });
    if (files.length === 0) throw new DataFileError(dir, `class "${className}" is empty (no PNG/JPEG images)`);
    return { className, files };
  });
}

type Sharp = (typeof import('sharp'))['default'];

async function loadSharp(): Promise<Sharp> {
  try {
    return (await import('sharp')).default;
  } catch (error) {
    throw new DataFileError(
      'sharp',
      `the image decoder (npm package sharp) cannot be loaded: ${(error as Error).message}; run \`npm install\``,
    );
  }
}

export async function readImageFolder(root: string, options: ImageOptions): Promise<RawDataset> {
  if (options.size !== null) {
    const problem = imageSizeProblem(options.size);
    if (problem !== null) throw new DataFileError(root, `images resized to ${problem}`);
  }
  const sharp = await loadSharp();
  sharp.cache(false);
  const classes = listImageFolder(root);
  const files = classes.flatMap((c) => c.files.map((file) => ({ file, label: c.className })));
  const read: ReadFile[] = [];
  let size = options.size;
  let channels = options.channels;
  let features: Float32Array | null = null;
  let dim = 0;
  for (let i = 0; i < files.length; i++) {
    const { file } = files[i];
    // Read once, through the checks of input-file.ts; sharp decodes these bytes, never the path.
    const { bytes, sha256 } = readInputFile(file);
    read.push({ path: file, sha256 });
    let meta;
    try {
      meta = await sharp(bytes).metadata();
    } catch (error) {
      throw new DataFileError(file, `cannot decode the image (${(error as Error).message})`);
    }
    if (meta.format !== 'png' && meta.format !== 'jpeg') throw new DataFileError(file, `a ${meta.format} image; allowed: PNG or JPEG`);
    const own: [number, number] = [meta.height ?? 0, meta.width ?? 0];
    const ownProblem = imageSizeProblem(own);
    if (ownProblem !== null) throw new DataFileError(file, ownProblem);
    if (size === null) size = own;
    if (channels === null) channels = meta.channels !== undefined && meta.channels <= 2 ? 1 : 3;
    if (options.size === null && (meta.height !== size[0] || meta.width !== size[1]))
      throw new DataFileError(
        file,
        `${meta.height}x${meta.width} pixels, but ${relative(root, files[0].file)} is ${size[0]}x${size[1]}: give an image size to resize them all`,
      );
    if (features === null) {
      dim = size[0] * size[1] * channels;
      // The decoded dataset must fit the input limit, known before the first image is decoded.
      const bytesNeeded = files.length * dim * 4;
      if (bytesNeeded > inputLimitBytes())
        throw new DataFileError(
          root,
          `${files.length} images of ${size[0]}x${size[1]}x${channels} decode to ${Math.round(bytesNeeded / 2 ** 20)} MB of samples, ` +
            `more than the ${Math.round(inputLimitBytes() / 2 ** 20)} MB allowed; use a smaller image size, or raise the limit with ${INPUT_LIMIT_ENV}=<megabytes>`,
        );
      features = new Float32Array(files.length * dim);
    }
    let pipeline = sharp(bytes).resize(size[1], size[0], { fit: 'fill' }).removeAlpha();
    pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    let pixels: Buffer;
    try {
      const out = await pipeline.raw().toBuffer({ resolveWithObject: true });
      if (out.info.channels !== channels) throw new Error(`decoded ${out.info.channels} channels, wanted ${channels}`);
      pixels = out.data;
    } catch (error) {
      throw new DataFileError(file, `cannot decode the image (${(error as Error).message})`);
    }
    for (let k = 0; k < dim; k++) features[i * dim + k] = pixels[k] / 255;
  }
  const shape = [size?.[0] ?? 0, size?.[1] ?? 0, channels ?? 1];
  return {
    file: root,
    features: features ?? new Float32Array(0),
    rows: files.length,
    shape,
    labels: files.map((f) => f.label),
    files: read,
    describeRow: (row) => ({ file: files[row].file, where: 'image' }),
  };
}
