/**
 * The lines of the project's own TypeScript sources under some folders, for the rule tests that
 * check how code reaches the store's folders and the user's files (comment lines left out: they
 * name things freely).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './engine-helpers.js';

export interface SourceLine {
  /** `folder/file.ts:line`, relative to the repository. */
  readonly where: string;
  readonly text: string;
}

export function sourceLines(folders: readonly string[], skip: (file: string) => boolean = () => false): SourceLine[] {
  const out: SourceLine[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !skip(e.name))
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((text, i) => {
            if (!/^\s*(\/\*|\*|\/\/)/.test(text)) out.push({ where: `${relative(ROOT, path)}:${i + 1}`, text });
          });
    }
  };
  for (const folder of folders) walk(join(ROOT, folder));
  return out;
}
