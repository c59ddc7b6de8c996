import { DsnError } from '../errors.js';
import type { Body } from '../wire/body.js';
import { PeerHttpClient } from './http-client.js';
import { PeerHttpServer } from './http-server.js';
import { USER_AGENT } from './http1.js';
import {
  type ListenOptions,
  newStats,
  type RequestHandler,
  type RequestOptions,
  type Response,
  type Transport,
} from './types.js';

/**
 * HTTP/1.1 transport: every message a POST with an octet-stream body
 * (PROTOCOL.md §1). Outgoing requests share keep-alive connections, so a
 * peer costs one TCP handshake, not one per message. The server bounds
 * bodies (413), heads (431) and the time a request may take (408), and never
 * lets a handler error escape. Both ends frame HTTP themselves on plain
 * sockets (http1.ts says why); the dashboard, which serves browsers, uses
 * node:http.
 */
export interface HttpTransportOptions {
  /** Most sockets per peer. */
  maxSocketsPerPeer?: number;
  /** Time allowed for a request's head and for the whole request, in ms. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Most open connections to the server at once. */
  maxConnections?: number;
  /** Bytes of request bodies the server reads at once (default 160 MiB; see ServerLimits). */
  maxBodyMemory?: number;
  /** Most bytes of a response body (default: 16 MiB, the default body limit). */
  maxResponseBytes?: number;
  /**
   * User-Agent of its requests (default USER_AGENT, by which nodes of this
   * implementation know each other; any other value makes it look like a
   * foreign node, which tests use).
   */
  userAgent?: string;
  /**
   * Told when a connection the client opened is closed from the far end.
   * A node passes its own through `listen` (ListenOptions.onHangup), which
   * takes its place; this one is for a transport used only as a client.
   */
  onHangup?: (address: string, port: number) => void;
}

const MAX_HEAD_BYTES = 16 * 1024;

export class HttpTransport implements Transport {
  readonly stats = newStats();
  private server: PeerHttpServer | null = null;
  private readonly client: PeerHttpClient;
  private closed = false;
  /** Where hangups of the client's connections go (ListenOptions.onHangup). */
  private hangup: ((address: string, port: number) => void) | undefined;

  constructor(private readonly options: HttpTransportOptions = {}) {
    this.hangup = options.onHangup;
    this.client = new PeerHttpClient(this.stats, {
      maxSocketsPerPeer: options.maxSocketsPerPeer ?? 8,
      maxIdlePerPeer: 4,
      maxHeadBytes: MAX_HEAD_BYTES,
      maxBodyBytes: options.maxResponseBytes ?? 16 * 1024 * 1024,
      // TCP keep-alive probes on idle pooled sockets: the kernel's, not ours
      // (the node pings at its own pace); a short interval would have the
      // kernel probe every idle connection that often.
      tcpKeepAliveMs: 60_000,
      userAgent: options.userAgent ?? USER_AGENT,
      // (The client reports nothing once closed.)
      onHangup: (address, port) => this.hangup?.(address, port),
    });
  }

  async listen(handler: RequestHandler, opts: ListenOptions): Promise<number> {
    if (this.server) throw new DsnError('DSN_ERR_INTERNAL', 'transport is already listening');
    this.hangup = opts.onHangup ?? this.hangup;
    const server = new PeerHttpServer(handler, opts, this.stats, {
      maxHeadBytes: MAX_HEAD_BYTES,
      headersTimeoutMs: this.options.headersTimeoutMs ?? 5000,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
      // For connections no peer authenticated on. Those of peers stay open
      // however long they are idle (the server's `watched`): reconnecting
      // costs more than an idle socket, a peer closing one is how its end is
      // noticed early, and a close here would have the peer ping this node
      // for every idle connection every two minutes (in a quiet network of
      // a hundred, ~40 requests a second).
      keepAliveTimeoutMs: 120_000,
      // Requests read in part are checked this often (only while there are
      // any: an idle process is not woken for it).
      checkIntervalMs: 1000,
      maxConnections: this.options.maxConnections ?? 4096,
      serverName: this.options.userAgent ?? USER_AGENT,
      // Two and a half 64-MiB DATA bodies (the default limit) at once.
      maxBodyMemory: this.options.maxBodyMemory ?? 160 * 1024 * 1024,
    });
    this.server = server;
    try {
      return await server.listen();
    } catch (err) {
      this.server = null;
      throw err;
    }
  }

  /** (The client counts what it sends in `stats`, and refuses once closed.) */
  request(
    address: string,
    port: number,
    path: string,
    body: Body,
    options: RequestOptions,
  ): Promise<Response> {
    return this.client.request(address, port, path, body, options);
  }

  preconnect(address: string, port: number): void {
    this.client.preconnect(address, port);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    await this.server?.close();
  }
}
