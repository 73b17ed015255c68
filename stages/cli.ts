/**
 * defrost's command line: the engine's commands (`pipeline/cli/`) on the defrost project, plus
 * the project's own commands (compare, bench, report). `bin/defrost.js` calls `main`.
 *
 * Testing hook: `DEFROST_PROJECT_MODULE=<path or file: URL>` runs the engine on another project
 * module (the engine's tests use a toy project with fast stages). The project module is imported
 * lazily, so commands that do not need it (compare, ls, inspect...) never load the stages.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gitCommit } from '../pipeline/provenance.js';
import { runCli } from '../pipeline/cli/program.js';
import { registerBenchCommand } from './training/bench-command.js';
import { registerCompareCommand } from './similarity/compare-command.js';
import { registerBlocksCommand } from './recommend/blocks-command.js';
import { registerRecommendCommand } from './recommend/recommend-command.js';
import { registerReportCommand } from './report/report-command.js';

function projectModuleUrl(): string {
  const override = process.env.DEFROST_PROJECT_MODULE;
  if (override) return override.startsWith('file:') ? override : pathToFileURL(resolve(override)).href;
  return new URL('./project.js', import.meta.url).href;
}

/** `defrost 0.1.0 (git 1a2b3c4d5e6f, /path/to/checkout)`: what `--version` prints. */
export function versionLine(): string {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const commit = gitCommit(root);
  return `defrost ${version} (${commit === null ? 'no git commit' : `git ${commit}`}, ${root.replace(/\/$/, '')})`;
}

export async function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {
    projectModule: projectModuleUrl(),
    name: 'defrost',
    version: versionLine,
    register: (program, ctx) => {
      registerCompareCommand(program);
      registerBenchCommand(program);
      registerReportCommand(program, ctx);
      registerRecommendCommand(program, ctx);
      registerBlocksCommand(program, ctx);
    },
  });
}
