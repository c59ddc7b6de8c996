import { InvalidArgumentError } from 'commander';
import type { Endpoint } from '../config.js';
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

export function collectEndpoint(value: string, previous: Endpoint[] = []): Endpoint[] {
  return [...previous, parseEndpoint(value)];
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
  if (!/^[0-9a-fA-F]{32}$/.test(key)) {
    throw new UsageError(
      `${source} must be 32 hex characters (16 bytes), got ${key.length} characters; 'dsn keygen' makes one`,
    );
  }
  return key;
}
