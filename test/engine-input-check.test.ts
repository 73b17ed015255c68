/**
 * exec's check of its inputs remembers the files it hashed (pipeline/integrity.ts, `remember`):
 * damage done after a file was remembered is still found, because every write moves the file's
 * ctime, even when the writer puts its size and mtime back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInstanceFiles } from '../pipeline/integrity.js';
import type { Manifest } from '../pipeline/manifest.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('input-check');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The part of a manifest the check reads. */
function manifestOf(files: string[]): Manifest {
  const listed = files.map((path) => {
    const bytes = readFileSync(join(dir, path));
    return { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  const partial: Pick<Manifest, 'files' | 'integrity'> = { files: listed, integrity: 'sha256:sealed' };
  return partial as Manifest;
}

test('a remembered input file edited in place (same size, mtime put back) is still found damaged', async () => {
  writeFileSync(join(dir, 'train.arrow'), 'a'.repeat(4096));
  const manifest = manifestOf(['train.arrow']);
  // Older than the racy window, so the check remembers it.
  await sleep(2100);
  assert.deepEqual(checkInstanceFiles(dir, manifest, { remember: true }), []);
  assert.deepEqual(checkInstanceFiles(dir, manifest, { remember: true }), [], 'unchanged: still fine');
  const { atime, mtime } = statSync(join(dir, 'train.arrow'));
  writeFileSync(join(dir, 'train.arrow'), `b${'a'.repeat(4095)}`);
  utimesSync(join(dir, 'train.arrow'), atime, mtime);
  assert.deepEqual(checkInstanceFiles(dir, manifest, { remember: true }), [
    { file: 'train.arrow', problem: 'sha256 differs from the manifest' },
  ]);
});
