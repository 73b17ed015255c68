/**
 * Image-folder datasets (docs/your-data.md): one sub-folder per class, holding PNG or JPEG files.
 * Images are decoded with sharp (libvips, shipped as npm packages), resized to `size`
 * ([height, width], stretched to fill) and converted to `channels` (1: grey, 3: RGB, alpha
 * dropped), scaled to [0, 1] in HWC order. Without a size, every image must have the first
 * image's size; without a channel count, the first image decides (grey -> 1, else 3).
 * Hidden files (dot files) are ignored; any other file that is not a readable PNG/JPEG, or a
 * class folder without images, is refused with its path.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** How images are brought to one input shape. */
export interface ImageOptions {
  /** [height, width]; null: keep the first image's size (then all must share it). */
  readonly size: readonly [number, number] | null;
  /** 1 or 3; null: the first image decides. */
  readonly channels: 1 | 3 | null;
}

/** The images of an image folder, per class folder, in sorted order (the folder's listing). */
export function listImageFolder(root: string): { className: string; files: string[] }[] {
  const entries = readdirSync(root, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  const stray = entries.find((e) => !e.isDirectory());
  if (stray) throw new DataFileError(join(root, stray.name), 'an image folder holds one sub-folder per class, and no other files');
  const classes = entries.map((e) => e.name).sort();
  if (classes.length === 0) throw new DataFileError(root, 'no class sub-folders (expected one sub-folder of images per class)');
  return classes.map((className) => {
    const dir = join(root, className);
    const files = readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .sort()
      .map((name) => join(dir, name));
    for (const f of files) {
      if (statSync(f).isDirectory()) throw new DataFileError(f, 'a folder inside a class folder (expected PNG/JPEG files only)');
      if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
        throw new DataFileError(f, `not an image file: allowed extensions ${IMAGE_EXTENSIONS.join(', ')}`);
    }
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

/** The decoder's version: part of an image dataset's cache key (another decoder may give other pixels). */
export async function imageDecoderVersion(): Promise<string> {
  const sharp = await loadSharp();
  return `sharp ${sharp.versions.sharp ?? 'unknown'} (libvips ${sharp.versions.vips})`;
}

export async function readImageFolder(root: string, options: ImageOptions): Promise<RawDataset> {
  const sharp = await loadSharp();
  sharp.cache(false);
  const classes = listImageFolder(root);
  const files = classes.flatMap((c) => c.files.map((file) => ({ file, label: c.className })));
  let size = options.size;
  let channels = options.channels;
  let features: Float32Array | null = null;
  let dim = 0;
  for (let i = 0; i < files.length; i++) {
    const { file } = files[i];
    let meta;
    try {
      meta = await sharp(file).metadata();
    } catch (error) {
      throw new DataFileError(file, `cannot decode the image (${(error as Error).message})`);
    }
    if (meta.format !== 'png' && meta.format !== 'jpeg') throw new DataFileError(file, `a ${meta.format} image; allowed: PNG or JPEG`);
    if (size === null) size = [meta.height ?? 0, meta.width ?? 0];
    if (channels === null) channels = meta.channels !== undefined && meta.channels <= 2 ? 1 : 3;
    if (options.size === null && (meta.height !== size[0] || meta.width !== size[1]))
      throw new DataFileError(
        file,
        `${meta.height}x${meta.width} pixels, but ${relative(root, files[0].file)} is ${size[0]}x${size[1]}: give an image size to resize them all`,
      );
    let pipeline = sharp(file).resize(size[1], size[0], { fit: 'fill' }).removeAlpha();
    pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    let pixels: Buffer;
    try {
      const out = await pipeline.raw().toBuffer({ resolveWithObject: true });
      if (out.info.channels !== channels) throw new Error(`decoded ${out.info.channels} channels, wanted ${channels}`);
      pixels = out.data;
    } catch (error) {
      throw new DataFileError(file, `cannot decode the image (${(error as Error).message})`);
    }
    if (features === null) {
      dim = size[0] * size[1] * channels;
      features = new Float32Array(files.length * dim);
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
    describeRow: (row) => ({ file: files[row].file, where: 'image' }),
  };
}
