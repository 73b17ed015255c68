/**
 * A problem with a user's data file (docs/your-data.md): the message names the file, where in it
 * (row, column or image) and what is wrong. It is a usage error (exit 2) and is raised before
 * anything runs, so a bad file never reaches the store.
 */
import { UsageError } from '../../../pipeline/errors.js';

export class DataFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
