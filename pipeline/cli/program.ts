/**
 * The engine's command line: builds the commander program with every engine command, lets the
 * project add its own, and maps every outcome to an exit code. Users see messages, never stack
 * traces: typed errors (`errors.ts`) print their message and exit 2 (usage/config) or 1;
 * anything else is a bug and is reported as an internal error (exit 70).
 */
import { Command, CommanderError, Option } from 'commander';
import { DefrostError } from '../errors.js';
import { FingerprintError } from '../fingerprint.js';
import { PlanError } from '../dag.js';
import { createContext, type CliContext } from './context.js';
import { registerRunCommand } from './run.js';
import { registerStatusCommand } from './status.js';
import { registerDagCommand, registerMakeCommand } from './graph.js';
import { registerExecCommand } from './exec.js';
import { registerLsCommand, registerInspectCommand } from './inspect.js';
import { registerExportCommand } from './export.js';
import { registerGcCommand } from './gc.js';
import { registerVerifyCommand } from './verify.js';
import { registerInitCommand } from './init.js';
import { registerRunsCommand } from './runs.js';
import { checkSetArguments } from './set-hints.js';
import { escapeControl } from './terminal-text.js';

export interface CliOptions {
  /** URL of the project module (`stages/project.js` for defrost). */
  readonly projectModule: string;
  readonly name?: string;
  /** The line `--version` prints (computed only when asked: it may ask git). */
  readonly version?: () => string;
  /** Adds the project's own commands (compare, bench, report...). */
  readonly register?: (program: Command, ctx: CliContext) => void;
}

export async function runCli(argv: readonly string[], options: CliOptions): Promise<number> {
  // A reader that stops early (`defrost export ... | head`) closes the pipe: stop quietly, as
  // Unix tools do, instead of dying on an unhandled EPIPE with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const ctx = createContext(options.projectModule);
  const program = new Command(options.name ?? 'defrost');
  program
    .description('content-hashed, cached pipeline for the transfer-depth study')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .configureHelp({ optionDescription });
  if (options.version) {
    const versionLine = options.version;
    const printVersion = (): never => {
      process.stdout.write(`${versionLine()}\n`);
      throw new CommanderError(0, 'commander.version', versionLine());
    };
    program.option('-v, --version', 'print the version and the git commit of this checkout');
    // -V, as commander spells it by default, stays accepted.
    program.addOption(new Option('-V').hideHelp());
    program.on('option:version', printVersion);
    program.on('option:V', printVersion);
  }
  registerRunCommand(program, ctx);
  registerStatusCommand(program, ctx);
  registerDagCommand(program, ctx);
  registerMakeCommand(program, ctx);
  registerExecCommand(program, ctx);
  registerLsCommand(program, ctx);
  registerInspectCommand(program, ctx);
  registerExportCommand(program, ctx);
  registerGcCommand(program, ctx);
  registerVerifyCommand(program, ctx);
  registerInitCommand(program, ctx);
  registerRunsCommand(program, ctx);
  options.register?.(program, ctx);
  // Every subcommand inherits exitOverride so commander never calls process.exit itself.
  const inheritExitOverride = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      inheritExitOverride(sub);
    }
  };
  inheritExitOverride(program);

  try {
    checkSetArguments(argv.slice(2));
    await program.parseAsync([...argv]);
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      if (error.code === 'commander.executeSubCommandAsync') return 0;
      return 2; // commander already printed the message
    }
    if (error instanceof DefrostError) {
      process.stderr.write(`defrost: ${escapeControl(error.message)}\n`);
      return error.exitCode;
    }
    if (error instanceof FingerprintError || error instanceof PlanError) {
      process.stderr.write(`defrost: project definition error: ${error.message}\n`);
      return 70;
    }
    const fsMessage = filesystemErrorMessage(error);
    if (fsMessage !== null) {
      process.stderr.write(`defrost: ${fsMessage}\n`);
      return 1;
    }
    process.stderr.write(`defrost: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 70;
  }
}

/**
 * An option's line in `--help`: its description, then `(required)` for a mandatory option and its
 * default — a number as a number (`default: 5`, not `"5"`), and none for a repeatable option's
 * empty list.
 */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push('required');
  const value: unknown = option.defaultValue;
  const shown = value !== undefined && !(Array.isArray(value) && value.length === 0) && (option.required || option.optional);
  if (shown) {
    const text = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? value : JSON.stringify(value);
    extra.push(`default: ${option.defaultValueDescription ?? text}`);
  }
  return extra.length === 0 ? option.description : `${option.description} (${extra.join(', ')})`;
}

/** Why the filesystem refused, per errno: what the user can do about it. */
const FS_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links (or a symbolic link where none is allowed)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
};

/**
 * A filesystem error (a read-only store, `--store FILE`, a full disk) is the environment's, not
 * a bug: one line naming the path and the reason instead of an internal error with a stack trace.
 */
function filesystemErrorMessage(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const e = error as NodeJS.ErrnoException;
  if (e.code === undefined || !(e.code in FS_ERRORS)) return null;
  const where = e.path ? ` ${e.path}` : '';
  return `cannot ${e.syscall ?? 'access'}${where}: ${FS_ERRORS[e.code]} (${e.code})`;
}
