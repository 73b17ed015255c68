/**
 * The files a stage wrote into its staging directory, as its manifest lists them: sorted
 * `/`-separated paths relative to the directory, dot files included. A symbolic link is never
 * followed into a directory (nothing outside the staging directory is walked); one to a file
 * counts as that file, and a broken one throws, so the stage fails rather than publishing it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import fastGlob from 'fast-glob';

export function listOutputFiles(dir: string): string[] {
  return fastGlob
    .sync('**', { cwd: dir, dot: true, onlyFiles: false, followSymbolicLinks: false, objectMode: true })
    .filter(({ path, dirent }) => dirent.isFile() || (dirent.isSymbolicLink() && statSync(join(dir, path)).isFile()))
    .map(({ path }) => path)
    .sort();
}
