/** Placeholder for the `bench` command: its owner replaces this file. */
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('defrost bench is not built yet');
    });
}
