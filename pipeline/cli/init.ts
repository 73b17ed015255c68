/**
 * `defrost init [--store DIR]`: starts a store explicitly. A new or empty directory is marked; a
 * store made by a defrost older than the mark (its layout recognised) is adopted; anything else
 * is refused, naming the entry that is not defrost's (docs/reliability.md, "The store mark").
 */
import type { Command } from 'commander';
import { markState } from '../store-mark.js';
import { MARK_FILE } from '../store-dirs.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';

export function registerInitCommand(program: Command, ctx: CliContext): void {
  const cmd = program.command('init').description(`mark a new or empty directory (or an older defrost store) as a store (${MARK_FILE})`);
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (options: { store?: string }) => {
      const store = storeFrom(options);
      const before = markState(store.root).kind;
      store.ensureMarked(ctx.err);
      ctx.err(before === 'marked' ? `${store.root} is already a defrost store` : `${store.root} is now a defrost store`);
      return 0;
    }),
  );
}
