/** Placeholder for the `report` command: its owner replaces this file. */
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('defrost report is not built yet');
    });
}
