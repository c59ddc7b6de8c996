import type { Body, BodySink } from '../wire/body.js';

/**
 * The seam between the protocol and the network. The node only ever sees
 * `(path, body, remoteAddress) → (status, body)`; HTTP is one implementation
 * (http.ts), an in-memory network for tests and simulations another
 * (memory.ts).
 */
export interface IncomingRequest {
  path: string;
  /** Empty when the body went to a sink instead (see `streamed`). */
  body: Uint8Array;
  /**
   * What the sink ListenOptions.sink gave for this body made of it, or the
   * error it threw; absent when the body was buffered whole.
   */
  streamed?: { value: unknown } | { error: unknown };
  /** Bytes of the body as received, when it went to a sink (else body.length). */
  bodyBytes?: number;
  /** The sender's IP as seen on the socket (IPv4-mapped IPv6 unwrapped). */
  remoteAddress: string;
  /**
   * The connection it came on (an opaque identity, e.g. the socket): lets the
   * node attribute an unsigned PING to the peer whose signed messages came
   * over the same keep-alive connection.
   */
  connection?: object;
  /**
   * Registers a function called once if the far side closes that connection
   * (a peer's process ending closes its sockets). Optional: a transport
   * without connections leaves it out.
   */
  onHangup?: HangupHook;
  /**
   * The sender said it is a node of this implementation (HTTP: its
   * User-Agent), whose server holds an idle connection at no cost: the node
   * may open one to it before it has anything to send (see `preconnect`).
   * Nothing is known of other servers (a Python node's may give a thread to
   * each connection), so they get connections only when there is a request.
   */
  sameImplementation?: boolean;
}

export type HangupHook = (listener: () => void) => void;

export interface Response {
  status: number;
  body: Uint8Array;
  /**
   * The answer came from a node of this implementation (HTTP: its Server
   * field), which speaks this implementation's extra messages. Set by the
   * client side only.
   */
  sameImplementation?: boolean;
}

export type RequestHandler = (req: IncomingRequest) => Promise<Response> | Response;

export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Bodies above this get 413 without being read (unless `bodyLimit` says otherwise). */
  maxBodyBytes: number;
  /** The body limit of a path, if not maxBodyBytes. */
  bodyLimit?: (path: string) => number;
  /**
   * A sink to read a body of a declared length as it arrives, or null to
   * have it buffered whole. Optional: a transport may always buffer.
   */
  sink?: (path: string, length: number) => BodySink | null;
  /**
   * Told when a connection this transport opened to `address:port` is
   * closed from the far end (the process there ended). Optional: a
   * transport without connections never calls it.
   */
  onHangup?: (address: string, port: number) => void;
}

export interface TransportStats {
  requestsSent: number;
  bytesSent: number;
  bytesReceived: number;
  requestsServed: number;
  /** Connections this transport opened (zero for one without connections). */
  connectionsOpened: number;
}

export interface Transport {
  /** Starts serving; resolves with the bound port. */
  listen(handler: RequestHandler, options: ListenOptions): Promise<number>;
  /** One POST; rejects on network errors and timeouts (any status resolves). */
  request(
    address: string,
    port: number,
    path: string,
    body: Body,
    options: RequestOptions,
  ): Promise<Response>;
  /**
   * Opens a connection to `address:port` for later requests if none is open
   * (or being opened) there; sends nothing. Optional: a transport without
   * connections leaves it out.
   */
  preconnect?(address: string, port: number): void;
  /** Stops serving and drops pooled connections. Idempotent. */
  close(): Promise<void>;
  readonly stats: TransportStats;
}

export function newStats(): TransportStats {
  return {
    requestsSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    requestsServed: 0,
    connectionsOpened: 0,
  };
}

/** '::ffff:127.0.0.1' → '127.0.0.1'. */
export function plainAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
