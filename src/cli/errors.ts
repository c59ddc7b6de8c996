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

/** Listen errors as Node reports them ("listen EADDRINUSE: address already in use 0.0.0.0:8000"), reworded. */
const LISTEN_CODES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not available on this machine',
};

/** The one line a user sees for `err`, without the program name. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (e?.syscall === 'listen' && code in LISTEN_CODES) {
    const where = e.port === undefined ? '' : ` ${e.address ?? ''}:${e.port}`;
    return `cannot listen on${where}: ${LISTEN_CODES[code]}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return oneLine(message);
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
