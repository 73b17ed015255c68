/**
 * The files a stage wrote, as its manifest lists them (pipeline/output-files.ts): every regular
 * file at any depth, dot files included, sorted; a symbolic link to a file counts as that file, one
 * to a directory is not followed (nothing outside the staging directory is walked), and a broken
 * one fails the listing instead of being published.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listOutputFiles } from '../pipeline/output-files.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('output-files');
after(() => rmSync(dir, { recursive: true, force: true }));

test('regular files at any depth and links to files are listed; links to directories are not followed', () => {
  const outside = join(dir, 'outside');
  mkdirSync(join(outside, 'deep'), { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 's');
  writeFileSync(join(outside, 'deep', 'more.txt'), 'm');
  const staging = join(dir, 'staging');
  mkdirSync(join(staging, 'model', '.hidden'), { recursive: true });
  mkdirSync(join(staging, 'empty'));
  writeFileSync(join(staging, 'metrics.arrow'), 'a');
  writeFileSync(join(staging, '.dotfile'), 'd');
  writeFileSync(join(staging, 'model', 'weights.bin'), 'w');
  writeFileSync(join(staging, 'model', '.hidden', 'x.json'), 'x');
  symlinkSync(join(outside, 'secret.txt'), join(staging, 'linked.txt'));
  symlinkSync(outside, join(staging, 'linked-dir'));

  assert.deepEqual(listOutputFiles(staging), ['.dotfile', 'linked.txt', 'metrics.arrow', 'model/.hidden/x.json', 'model/weights.bin']);

  symlinkSync(join(outside, 'gone.txt'), join(staging, 'broken.txt'));
  assert.throws(() => listOutputFiles(staging), { code: 'ENOENT' });
});
