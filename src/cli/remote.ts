// What the one-shot commands (members, get, set, delete, monitor) share:
// finding the running node's control API, its token, and turning its
// answers into exit codes. They never join the network.
import { ApiClient, ApiRefusedError } from '../control/client.js';
import type { Json } from '../control/json.js';
import { isLoopbackHost } from '../control/loopback.js';
import { readTokenFile, tokenFile } from '../control/token.js';
import { UsageError } from './errors.js';

export interface RemoteOptions {
  /** The control API's port (`dsn start --api PORT`). */
  api?: number;
  apiHost?: string;
  json?: boolean;
  /** What to call each setting in messages: the environment variable it came from. */
  names?: Record<string, string>;
}

export interface WriteOptions extends RemoteOptions {
  token?: string;
  credentials?: string;
  id?: string;
  /** Wait until every peer has the new state. */
  wait?: boolean;
}

export const DEFAULT_API_HOST = '127.0.0.1';

/** The client of the node's API, from --api / DSN_API and --api-host / DSN_API_HOST. */
export function clientFor(opts: RemoteOptions, token?: string, timeoutMs?: number): ApiClient {
  const names = opts.names ?? {};
  if (opts.api === undefined) {
    throw new UsageError(
      "--api PORT (or DSN_API) is required: the port of the node's control API (dsn start --api PORT)",
    );
  }
  if (opts.api === 0)
    throw new UsageError(
      `${names.api ?? '--api'}: port 0 names no node; give the port the node listens on`,
    );
  const host = opts.apiHost ?? DEFAULT_API_HOST;
  if (!isLoopbackHost(host)) {
    throw new UsageError(
      `${names.apiHost ?? '--api-host'}: the control API is on this machine only (127.0.0.1, ::1, localhost), not ${host}`,
    );
  }
  return new ApiClient(host, opts.api, token, timeoutMs);
}

/**
 * A client that can write: the token from --token / DSN_TOKEN, else read
 * from `<credentials>/<id>/api-token` (--credentials / DSN_CREDENTIAL_DIR,
 * default ./credentials; --id / DSN_ID, default: the ID the node gives). A
 * token file that is not there is no error here: the node refuses the
 * write (401), and the message says where the token was looked for.
 */
export async function writerFor(opts: WriteOptions): Promise<{ client: ApiClient; hint: string }> {
  const names = opts.names ?? {};
  const timeoutMs = opts.wait ? 60_000 : undefined;
  if (opts.token !== undefined) {
    if (opts.token.trim() === '') throw new UsageError(`${names.token ?? '--token'} is empty`);
    return {
      client: clientFor(opts, opts.token.trim(), timeoutMs),
      hint: `sent the token of ${names.token ?? '--token'}`,
    };
  }
  const reader = clientFor(opts);
  let id = opts.id;
  if (id === undefined) {
    const info = await reader.call('GET', '/v1');
    const given = info.body instanceof Map ? info.body.get('nodeId') : undefined;
    if (typeof given !== 'string') throw new Error(`${reader.where} did not say its node ID`);
    id = given;
  }
  const file = tokenFile(opts.credentials ?? 'credentials', id);
  const explicit = opts.credentials !== undefined || opts.id !== undefined;
  let token: string | undefined;
  let problem = `${file} does not exist`;
  try {
    token = await readTokenFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') {
      if (explicit) throw new Error(`cannot read the token file ${file}: ${e.message}`);
      problem = `cannot read ${file}: ${e.message}`;
    }
  }
  const hint =
    token === undefined
      ? `no token: ${problem}; pass --token, or --credentials DIR --id ID of the node`
      : `sent the token of ${file}`;
  return { client: clientFor(opts, token, timeoutMs), hint };
}

/**
 * A refusal of the node as the command's error: bad input (400, 413) is
 * a usage error (exit 2), anything else (unknown node or key, no token,
 * read-only) a failure (exit 1).
 */
export function refusal(err: unknown, client: ApiClient, hint?: string): Error {
  if (!(err instanceof ApiRefusedError)) return err as Error;
  const base = `${client.where} refused: ${err.message} (${err.status} ${err.code})`;
  if (err.status === 400 || err.status === 413) return new UsageError(base, { cause: err });
  if (err.status === 401 && hint) return new Error(`${base}; ${hint}`, { cause: err });
  return new Error(base, { cause: err });
}

/** The `state` of an answer as ordered pairs. */
export function statePairs(body: Json): [string, string][] {
  const state = body instanceof Map ? body.get('state') : undefined;
  if (!(state instanceof Map)) return [];
  return [...state].map(([k, v]) => [k, String(v)]);
}

/** A field of an answer object. */
export function field(body: Json, name: string): Json | undefined {
  return body instanceof Map ? body.get(name) : undefined;
}

/** URL path segment: every character but the unreserved ones escaped (a key may hold '/'). */
export function segment(s: string): string {
  return encodeURIComponent(s);
}
