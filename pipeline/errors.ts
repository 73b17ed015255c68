/**
 * Typed errors with messages written for users. The CLI maps each to an exit code and prints
 * only `message` (never a stack trace); anything else reaching the top is a bug and says so.
 *
 * Exit codes (docs/engine.md): 0 success, 1 a stage failed / verification found damage,
 * 2 bad usage or config.
 */
import type { ConfigIssue } from './project.js';

export abstract class DefrostError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line usage or input file: exit 2. */
export class UsageError extends DefrostError {
  readonly exitCode = 2;
}

/** An invalid config: every issue names the key, the value and what is allowed. Exit 2. */
export class ConfigError extends DefrostError {
  readonly exitCode = 2;
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly source = 'config',
  ) {
    super(`invalid ${source}:\n` + issues.map(describeIssue).join('\n'));
  }
}

/** A failure of one stage instance, with the path of its log. Exit 1 when it ends a command. */
export class StageFailure extends DefrostError {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly logPath?: string,
  ) {
    super(message);
  }
}

/**
 * The store's layout has been tampered with: a symbolic link, FIFO or file where the store keeps
 * one of its own directories (docs/reliability.md, "Paths"). Exit 2, like any bad input: the
 * command refuses before reading or writing through it.
 */
export class StoreLayoutError extends DefrostError {
  readonly exitCode = 2;
}

/** The store holds something damaged or unexpected (failed verification, unreadable manifest). */
export class StoreError extends DefrostError {
  readonly exitCode = 1;
}

/** `  key: got V (the default); allowed: A; ...` — one line per issue. */
function describeIssue(i: ConfigIssue): string {
  if (!i.defaulted) return `  ${i.key}: got ${formatValue(i.value)}; allowed: ${i.allowed}`;
  return (
    `  ${i.key}: got ${formatValue(i.value)} (the default: the config does not set ${i.key}); allowed: ${i.allowed}; ` +
    `set ${i.key} in the config, or with --set ${i.key}=VALUE`
  );
}

export function formatValue(value: unknown): string {
  if (value === undefined) return '(nothing)';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
