/** Placeholder for the `compare` command: its owner replaces this file. */
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('defrost compare is not built yet');
    });
}
