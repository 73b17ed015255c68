/** A yes/no question at the terminal (stderr), for commands that delete or forget on request. */
import { createInterface } from 'node:readline/promises';

/** Whether the user can be asked: both stdin and stderr are terminals. */
export function canAsk(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Asks `question`; true only for an answer of y or yes. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
