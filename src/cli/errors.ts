import { ConfigError } from '../errors.js';

/** Exit codes: 2 for a command line or configuration the user must fix, 1 for a failure at run time. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** A bad flag, value or configuration file: reported as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The one line a user sees for `err`, without the program name. */
export function describeError(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}

/** Prints `err` as one line on stderr (its stack too with --verbose) and returns the exit code. */
export function reportError(err: unknown, command: string, verbose: boolean): number {
  process.stderr.write(`${command}: ${describeError(err)}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return err instanceof UsageError || err instanceof ConfigError ? EXIT_USAGE : EXIT_FAILURE;
}

/** Folds a multi-line message into one line. */
export function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, ' ');
}
