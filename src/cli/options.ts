import { InvalidArgumentError } from 'commander';
import type { Endpoint } from '../config.js';
import { describeBadKey } from '../crypto/key-text.js';
import { UsageError } from './errors.js';

// Parsers for flag values. Commander reports a thrown InvalidArgumentError as
// "option '--port <port>' argument 'x' is invalid. <message>", so the
// messages here are sentences that say what is expected.

export function parsePort(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new InvalidArgumentError('Expected a port number from 0 (any free port) to 65535.');
  }
  return n;
}

/** "host:port" or "[v6]:port"; the port of a node to contact cannot be 0. */
export function parseEndpoint(value: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const address = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!address || !(port >= 1 && port <= 65535)) {
    throw new InvalidArgumentError(
      'Expected host:port with a port from 1 to 65535, e.g. 10.0.0.5:8000.',
    );
  }
  return { address, port };
}

/**
 * One or more endpoints, separated by commas or spaces (DSN_BOOTSTRAP holds
 * them all); the flag may also be repeated.
 */
export function collectEndpoint(value: string, previous: Endpoint[] = []): Endpoint[] {
  const items = value.split(/[\s,]+/).filter((s) => s !== '');
  if (items.length === 0) return [...previous, parseEndpoint(value)];
  return [...previous, ...items.map(parseEndpoint)];
}

/** "key=value", split at the first '='; the value may be empty, the key may not. */
export function collectAssignment(
  value: string,
  previous: [string, string][] = [],
): [string, string][] {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('Expected key=value, e.g. --set status=online.');
  return [...previous, [value.slice(0, at), value.slice(at + 1)]];
}

/** An argument of `dsn set`: KEY=VALUE, split at the first '='; the key may not be empty. */
export function collectPair(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('Expected KEY=VALUE, e.g. dsn set status=online.');
  return [...previous, [value.slice(0, at), value.slice(at + 1)]];
}

/**
 * DSN_SET: one key=value per line, blank lines skipped. Lines, not commas:
 * a value may hold anything but a line break (a flag's value may hold that too).
 */
export function parseAssignmentLines(value: string, name: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [i, line] of value.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    if (at <= 0) {
      throw new UsageError(`${name}: line ${i + 1} is not key=value (one pair per line)`);
    }
    pairs.push([line.slice(0, at), line.slice(at + 1)]);
  }
  if (pairs.length === 0) throw new UsageError(`${name}: expected key=value lines, got none`);
  return pairs;
}

const YES = new Set(['1', 'true', 'yes', 'on']);
const NO = new Set(['0', 'false', 'no', 'off']);

/**
 * A switch from the environment (DSN_JSON=1). Commander takes any value of
 * the variable, "false" included, for "on"; this reads what it says.
 */
export function parseSwitch(value: string, name: string): boolean {
  const v = value.trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  throw new UsageError(`${name} must be 1, true, yes or on, or 0, false, no or off`);
}

/** Comma-separated names; the flag may also be repeated. */
export function collectList(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0)
    throw new InvalidArgumentError('Expected one or more comma-separated names.');
  return [...previous, ...items];
}

export function parseNonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('Expected a non-empty value.');
  return value;
}

export function parseCount(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

/**
 * The network key is checked here rather than by commander so that the error
 * does not echo it: a mistyped key is often most of the real one.
 */
export function checkKey(key: string | undefined, source: string): string | undefined {
  if (key === undefined) return undefined;
  const problem = describeBadKey(key);
  if (problem !== '') throw new UsageError(`${source} ${problem}; 'dsn keygen' makes one`);
  return key;
}
