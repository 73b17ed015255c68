/**
 * defrost's command line: the engine's commands (`pipeline/cli/`) on the defrost project, plus
 * the project's own commands (compare, bench, report). `bin/defrost.js` calls `main`.
 *
 * Testing hook: `DEFROST_PROJECT_MODULE=<path or file: URL>` runs the engine on another project
 * module (the engine's tests use a toy project with fast stages). The project module is imported
 * lazily, so commands that do not need it (compare, ls, inspect...) never load the stages.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../pipeline/cli/program.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerCompareCommand } from './commands/compare.js';
import { registerReportCommand } from './commands/report.js';

function projectModuleUrl(): string {
  const override = process.env.DEFROST_PROJECT_MODULE;
  if (override) return override.startsWith('file:') ? override : pathToFileURL(resolve(override)).href;
  return new URL('./project.js', import.meta.url).href;
}

export async function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {
    projectModule: projectModuleUrl(),
    name: 'defrost',
    register: (program) => {
      registerCompareCommand(program);
      registerBenchCommand(program);
      registerReportCommand(program);
    },
  });
}
