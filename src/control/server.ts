import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DsnError } from '../errors.js';
import { listen, send } from '../local-http.js';
import type { NodeView } from '../node/node.js';
import { pyJsonDumps } from '../wire/pyjson.js';
import { type ControlSource, EventHub, type StreamEvent } from './events.js';
import { DuplicateKeyError, type Json, jsonKind, parseOrdered, toJson } from './json.js';
import { hostHeaderAllowed, isLoopbackAddress, isLoopbackHost } from './loopback.js';
import { tokenMatches } from './token.js';

/** Largest request body taken (a PUT of keys); bigger ones get 413 before a byte is read. */
export const API_MAX_BODY_BYTES = 1024 * 1024;

/** A subscriber to GET /v1/events that has this much unread is cut off (it cannot keep up). */
const MAX_STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Prometheus text for GET /metrics (see src/metrics). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface ControlApiOptions {
  /** 0 takes a free port. */
  port: number;
  /** A loopback address (default 127.0.0.1); anything else is refused. */
  host?: string;
  /** The bearer token writes need; null: the API is read-only (writes get 403). */
  token: string | null;
  /** Why the API is read-only, for the 403's message. */
  readOnlyReason?: string;
  metrics?: MetricsSource | null;
  maxBodyBytes?: number;
}

export interface ControlApi {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly writable: boolean;
  /** Ends the event streams (each with a `stop` line) and closes; idempotent. */
  close(): Promise<void>;
}

/** Refused before or while handling a request: the status, a stable code and one line for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: string[],
) => Promise<void> | void;

interface Route {
  /** Path segments; null matches any one segment (handed to the handler, decoded). */
  pattern: (string | null)[];
  methods: Partial<Record<'GET' | 'PUT' | 'POST' | 'DELETE', Handler>>;
}

/**
 * The local control API of a running node, on node:http, JSON in and out:
 *
 *   GET    /v1                          { nodeId, writable }
 *   GET    /v1/members                  { nodeId, members: [{ nodeId, address, port, liveness, lastUpdate, self }] }
 *   GET    /v1/nodes/{id}/state         { nodeId, state: { … } }        (key order kept)
 *   GET    /v1/nodes/{id}/state/{key}   { nodeId, key, value }
 *   GET    /v1/state, /v1/state/{key}   the same for this node
 *   PUT    /v1/state (or POST)          body { key: value, … }: sets them all, or none   [token]
 *   DELETE /v1/state/{key}              removes one key                                  [token]
 *   GET    /v1/events                   newline-delimited JSON, one event a line, until closed
 *   GET    /metrics                     Prometheus text
 *
 * Path segments are percent-decoded (a key with a '/' is `%2F`). Errors are
 * `{ "error": code, "message": text }` with their HTTP status; nothing
 * changes on any error. Loopback only, three ways: it binds only a loopback
 * address, refuses (403) a connection from any other, and refuses (403) a
 * Host header naming another machine (DNS rebinding). Writes need
 * `Authorization: Bearer <token>` (401 without it or with a wrong one).
 */
export async function startControlApi(
  source: ControlSource,
  opts: ControlApiOptions,
): Promise<ControlApi> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new DsnError(
      'DSN_ERR_CONFIG',
      `control API: listens on a loopback address only (127.0.0.1, ::1, localhost), not ${host}`,
    );
  }
  const maxBody = opts.maxBodyBytes ?? API_MAX_BODY_BYTES;
  const hub = new EventHub(source);
  const streams = new Set<ServerResponse>();
  const self = () => source.nodeId();

  const stateOf = (nodeId: string): Map<string, string> => {
    const state = source.readState(nodeId);
    if (!state)
      throw new ApiError(404, 'unknown_node', `no node ${JSON.stringify(nodeId)} is known here`);
    return state;
  };
  const getState: Handler = (_req, res, [id = self()]) =>
    sendJson(
      res,
      200,
      new Map<string, Json>([
        ['nodeId', id],
        ['state', stateOf(id)],
      ]),
    );
  const getKey: Handler = (_req, res, params) => {
    const [id, key] =
      params.length === 2 ? (params as [string, string]) : [self(), params[0] as string];
    const value = stateOf(id).get(key);
    if (value === undefined) {
      throw new ApiError(
        404,
        'unknown_key',
        `node ${JSON.stringify(id)} has no key ${JSON.stringify(key)}`,
      );
    }
    sendJson(res, 200, { nodeId: id, key, value });
  };

  const setKeys: Handler = async (req, res) => {
    authorize(req, opts);
    const body = await readBody(req, maxBody);
    const pairs = parseAssignments(body);
    const now = stateOf(self());
    const next = new Map(now);
    for (const [k, v] of pairs) next.set(k, v);
    const limits = source.config.limits;
    if (next.size > limits.maxKeys) {
      throw new ApiError(413, 'too_many_keys', `a state holds at most ${limits.maxKeys} keys`);
    }
    // The rule the node applies (DSNode.setOwn), checked first so that no key of the lot is set.
    const room = limits.maxBodyBytes - limits.maxNodeIdBytes - 128;
    if (pyJsonDumps(next).length > room) {
      throw new ApiError(
        413,
        'state_too_large',
        `the state would exceed the body limit of ${limits.maxBodyBytes} bytes`,
      );
    }
    const changed = pairs.filter(([k, v]) => now.get(k) !== v);
    // Each call sets its key at once; the node sends the newest state to each peer (coalesced).
    const delivered = changed.map(([k, v]) => source.updateData(k, v));
    const wait = new URL(req.url ?? '/', 'http://x').searchParams.get('wait');
    await settle(delivered, wait === '1' || wait === 'true');
    sendJson(
      res,
      200,
      new Map<string, Json>([
        ['nodeId', self()],
        ['changed', changed.map(([k]) => k)],
        ['state', stateOf(self())],
      ]),
    );
  };

  const deleteKey: Handler = async (req, res, [key]) => {
    authorize(req, opts);
    req.resume();
    const k = key as string;
    if (!stateOf(self()).has(k)) {
      throw new ApiError(
        404,
        'unknown_key',
        `node ${JSON.stringify(self())} has no key ${JSON.stringify(k)}`,
      );
    }
    const wait = new URL(req.url ?? '/', 'http://x').searchParams.get('wait');
    await settle([source.deleteData(k)], wait === '1' || wait === 'true');
    sendJson(
      res,
      200,
      new Map<string, Json>([
        ['nodeId', self()],
        ['deleted', k],
        ['state', stateOf(self())],
      ]),
    );
  };

  const events: Handler = (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
      // One stream per connection: when it ends (the node stops), so does the socket.
      Connection: 'close',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.flushHeaders();
    const write = (e: StreamEvent) => {
      if (res.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        res.destroy();
        return;
      }
      res.write(`${toJson(e)}\n`);
    };
    const unsubscribe = hub.subscribe(write);
    streams.add(res);
    res.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
    write({ event: 'ready', time: Date.now(), nodeId: self() });
  };

  const routes: Route[] = [
    {
      pattern: ['v1'],
      methods: {
        GET: (_q, res) =>
          sendJson(res, 200, {
            nodeId: self(),
            writable: opts.token !== null,
            endpoints: routes.flatMap((r) =>
              Object.keys(r.methods).map((m) => `${m} ${pathOf(r)}`),
            ),
          }),
      },
    },
    {
      pattern: ['v1', 'members'],
      methods: {
        GET: (_q, res) =>
          sendJson(res, 200, { nodeId: self(), members: source.snapshot().map(member) }),
      },
    },
    { pattern: ['v1', 'nodes', null, 'state'], methods: { GET: getState } },
    { pattern: ['v1', 'nodes', null, 'state', null], methods: { GET: getKey } },
    { pattern: ['v1', 'state'], methods: { GET: getState, PUT: setKeys, POST: setKeys } },
    { pattern: ['v1', 'state', null], methods: { GET: getKey, DELETE: deleteKey } },
    { pattern: ['v1', 'events'], methods: { GET: events } },
  ];
  const metrics = opts.metrics;
  if (metrics) {
    routes.push({
      pattern: ['metrics'],
      methods: {
        GET: async (_q, res) => {
          const text = await metrics.metrics();
          send(res, 200, metrics.contentType, text);
        },
      },
    });
  }

  const http = createServer((req, res) => {
    handle(req, res, routes).catch((err: unknown) => fail(res, err));
  });
  // A client that never finishes its request is dropped; streams are answers, not requests.
  http.requestTimeout = 10_000;
  http.headersTimeout = 5_000;

  try {
    await listen(http, opts.port, host, 'control API');
  } catch (err) {
    hub.close();
    throw err;
  }
  const port = (http.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    writable: opts.token !== null,
    close() {
      closing ??= closeServer(http, () => {
        for (const res of streams) {
          res.end(`${toJson({ event: 'stop', time: Date.now(), nodeId: self() })}\n`);
        }
        hub.close();
      });
      return closing;
    },
  };
}

/** Listens; failures are DsnErrors worded as the node's own (the Node error is the cause). */

function closeServer(http: Server, endStreams: () => void): Promise<void> {
  return new Promise((resolve) => {
    endStreams();
    http.close(() => resolve());
    http.closeIdleConnections();
    // Streams just ended; anything still open after a moment is cut.
    setTimeout(() => http.closeAllConnections(), 200).unref();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Route[]): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Belt and braces: the socket is bound to loopback, but never answer another machine.
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    res.setHeader('Connection', 'close');
    throw new ApiError(403, 'not_loopback', 'the control API answers this machine only');
  }
  if (!hostHeaderAllowed(req.headers.host)) {
    throw new ApiError(
      403,
      'bad_host',
      `the control API answers to localhost, 127.0.0.1 or [::1] only, not Host ${JSON.stringify(req.headers.host)}`,
    );
  }
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const raw = (req.url ?? '/').split('?')[0] as string;
  const segments = raw.split('/').filter((s, i) => !(i === 0 && s === ''));
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    throw new ApiError(
      400,
      'bad_path',
      `the path ${JSON.stringify(raw)} is not valid percent-encoding`,
    );
  }
  const route = routes.find(
    (r) =>
      r.pattern.length === decoded.length &&
      r.pattern.every((p, i) => p === null || p === decoded[i]),
  );
  if (!route) {
    throw new ApiError(
      404,
      'not_found',
      `no such endpoint: ${req.method} ${raw} (GET /v1 lists what there is)`,
    );
  }
  const handler = route.methods[method as keyof Route['methods']];
  if (!handler) {
    const allow = Object.keys(route.methods);
    if (allow.includes('GET')) allow.push('HEAD');
    throw new ApiError(
      405,
      'method_not_allowed',
      `${req.method} is not allowed on ${raw}: ${allow.join(', ')}`,
      {
        Allow: allow.join(', '),
      },
    );
  }
  if (method === 'GET') req.resume(); // a body sent with a GET is read and dropped
  const params = decoded.filter((_, i) => route.pattern[i] === null);
  await handler(req, res, params);
}

/** "/v1/nodes/{node}/state/{key}" */
function pathOf(route: Route): string {
  const names = route.pattern.map((p, i) =>
    p !== null ? p : route.pattern[i - 1] === 'nodes' ? '{node}' : '{key}',
  );
  return `/${names.join('/')}`;
}

/** Writes need the bearer token; checked before a byte of the body is read. */
function authorize(req: IncomingMessage, opts: ControlApiOptions): void {
  if (opts.token === null) {
    throw new ApiError(
      403,
      'read_only',
      `this control API is read-only${opts.readOnlyReason ? `: ${opts.readOnlyReason}` : ''}`,
    );
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  if (!m) {
    throw new ApiError(
      401,
      'unauthorized',
      'writes need the header Authorization: Bearer <token>',
      {
        'WWW-Authenticate': 'Bearer realm="dsn"',
      },
    );
  }
  if (!tokenMatches(opts.token, m[1] as string)) {
    throw new ApiError(
      401,
      'unauthorized',
      'the bearer token is wrong (it is new at every start of the node)',
      {
        'WWW-Authenticate': 'Bearer realm="dsn", error="invalid_token"',
      },
    );
  }
}

/** The body as text, at most `max` bytes: 413 as soon as it is longer (or says it will be). */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const tooLarge = () =>
    new ApiError(413, 'body_too_large', `the request body is over the limit of ${max} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text);
    });
    req.on('error', reject);
  });
}

/** The body of a PUT: a JSON object of string values, in its order. */
function parseAssignments(body: string): [string, string][] {
  let value: Json;
  try {
    value = parseOrdered(body);
  } catch (err) {
    if (err instanceof DuplicateKeyError)
      throw new ApiError(400, 'bad_json', `the body is ambiguous: ${err.message}`);
    const why = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new ApiError(400, 'bad_json', `the body is not valid JSON: ${why}`);
  }
  if (!(value instanceof Map)) {
    throw new ApiError(
      400,
      'bad_request',
      `the body must be a JSON object of keys and string values, got ${jsonKind(value)}`,
    );
  }
  if (value.size === 0)
    throw new ApiError(400, 'bad_request', 'the body sets no key: send {"key": "value", …}');
  const pairs: [string, string][] = [];
  for (const [k, v] of value) {
    if (typeof v !== 'string') {
      throw new ApiError(
        400,
        'bad_value',
        `the value of ${JSON.stringify(k)} must be a string, got ${jsonKind(v)}`,
      );
    }
    pairs.push([k, v]);
  }
  return pairs;
}

/** Waits for the peers to have the state, or lets it go on (a failure is the node's to report). */
async function settle(delivered: Promise<void>[], wait: boolean): Promise<void> {
  if (!wait) {
    for (const p of delivered) p.catch(() => {});
    return;
  }
  try {
    await Promise.all(delivered);
  } catch (err) {
    throw new ApiError(
      500,
      'not_delivered',
      `the state was set but not sent to every peer: ${(err as Error).message}`,
    );
  }
}

function member(v: NodeView) {
  return {
    nodeId: v.nodeId,
    address: v.address,
    port: v.port,
    liveness: v.liveness,
    lastUpdate: v.lastUpdate,
    self: v.self,
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'application/json; charset=utf-8', `${toJson(value)}\n`, headers);
}

function fail(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof ApiError
      ? err
      : new ApiError(
          500,
          'internal',
          `the node could not do it: ${(err as Error)?.message ?? String(err)}`,
        );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A write refused before its body was read: close rather than read what is left of it.
  if (e.status === 401 || e.status === 403 || e.status === 413)
    res.setHeader('Connection', 'close');
  sendJson(res, e.status, { error: e.code, message: e.message }, e.headers);
}
