import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { DsnError, PeerError } from '../errors.js';
import {
  type ListenOptions,
  newStats,
  plainAddress,
  type RequestHandler,
  type RequestOptions,
  type Response,
  type Transport,
} from './types.js';

/**
 * HTTP/1.1 transport: every message a POST with an octet-stream body
 * (PROTOCOL.md §1). Outgoing requests share a keep-alive agent, so a peer
 * costs one TCP handshake, not one per message. The server bounds bodies
 * (413), headers and whole requests in time (a client that never finishes
 * its request is cut off), and never lets a handler error escape.
 */
export interface HttpTransportOptions {
  /** Most sockets per peer. */
  maxSocketsPerPeer?: number;
  /** Time allowed for a request's headers and for its whole body, in ms. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Most open connections to the server at once. */
  maxConnections?: number;
}

export class HttpTransport implements Transport {
  readonly stats = newStats();
  private server: Server | null = null;
  private readonly agent: Agent;
  private closed = false;
  onHangup?: (address: string, port: number) => void;

  constructor(private readonly options: HttpTransportOptions = {}) {
    this.agent = new Agent({
      keepAlive: true,
      // TCP keep-alive probes on idle pooled sockets: the kernel's, not ours
      // (the node pings at its own pace); Node's default of 1 s would have
      // the kernel probe every idle connection every second.
      keepAliveMsecs: 60_000,
      maxSockets: options.maxSocketsPerPeer ?? 8,
      maxFreeSockets: 4,
      scheduling: 'lifo',
    });
    // Every socket the agent opens reports its end once (not per request).
    // (A socket whose answer said "Connection: close" is closed by the
    // client itself first: no report, see test/integration/hangup.)
    const open = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (opts, callback) => {
      const socket = open(opts, callback);
      if (socket instanceof Socket) {
        hangup(socket, () => {
          if (!this.closed) this.onHangup?.(String(opts.host), Number(opts.port));
        });
      }
      return socket;
    };
  }

  async listen(handler: RequestHandler, opts: ListenOptions): Promise<number> {
    if (this.server) throw new DsnError('DSN_ERR_INTERNAL', 'transport is already listening');
    // Node checks header and request timeouts on this interval (30 s by
    // default): 5 s keeps clients that never finish a request from holding
    // sockets for long, without waking an idle process every second (on a
    // small VM a wake-up costs about half a millisecond of CPU).
    const server = createServer(
      { keepAlive: true, connectionsCheckingInterval: 5000 },
      (req, res) => {
        this.serve(req, res, handler, opts.maxBodyBytes);
      },
    );
    server.maxConnections = this.options.maxConnections ?? 4096;
    server.headersTimeout = this.options.headersTimeoutMs ?? 5000;
    server.requestTimeout = this.options.requestTimeoutMs ?? 10_000;
    // Peers' connections stay open between pings (about a minute apart in a
    // network of a hundred): reconnecting costs more than an idle
    // socket, and a peer closing one is how its end is noticed early.
    server.keepAliveTimeout = 120_000;
    server.maxHeadersCount = 32;
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.server = null;
        const what = `${opts.host}:${opts.port}`;
        const message =
          err.code === 'EADDRINUSE'
            ? `port ${opts.port} is already in use (${what})`
            : err.code === 'EACCES'
              ? `no permission to listen on ${what}`
              : `cannot listen on ${what}: ${err.message}`;
        reject(new DsnError('DSN_ERR_CONFIG', message, { cause: err }));
      });
      server.listen(opts.port, opts.host, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    handler: RequestHandler,
    max: number,
  ): void {
    const reply = (status: number, body: Uint8Array | string) => {
      if (res.headersSent || res.destroyed) return;
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, {
        'Content-Type':
          typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
        'Content-Length': b.length,
      });
      res.end(b);
    };
    if (req.method !== 'POST') {
      reply(405, 'method not allowed');
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      res.setHeader('Connection', 'close');
      reply(413, 'body too large');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        res.setHeader('Connection', 'close');
        reply(413, 'body too large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => req.destroy());
    req.on('end', () => {
      if (size > max) return;
      this.stats.requestsServed++;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0] as string;
      Promise.resolve()
        .then(() =>
          handler({
            path,
            body,
            remoteAddress: plainAddress(req.socket.remoteAddress),
            connection: req.socket,
            onHangup: (listener) => hangup(req.socket, listener),
          }),
        )
        .then(
          (r) => reply(r.status, r.body),
          () => reply(500, 'internal error'),
        );
    });
  }

  request(
    address: string,
    port: number,
    path: string,
    body: Uint8Array,
    options: RequestOptions,
  ): Promise<Response> {
    if (this.closed) return Promise.reject(new PeerError('DSN_ERR_STOPPED', 'transport is closed'));
    this.stats.requestsSent++;
    this.stats.bytesSent += body.length;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        {
          host: address,
          port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
          signal: options.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(networkError(address, port, err)));
          res.on('end', () => {
            clearTimeout(timer);
            const out = Buffer.concat(chunks);
            this.stats.bytesReceived += out.length;
            resolve({ status: res.statusCode ?? 0, body: out });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(
          new PeerError(
            'DSN_ERR_TIMEOUT',
            `${address}:${port}${path} timed out after ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err instanceof PeerError ? err : networkError(address, port, err));
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Calls `listener` once when the far side closes `socket` (FIN or reset). */
function hangup(socket: Socket, listener: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    listener();
  };
  socket.once('end', once);
  socket.once('error', once);
}

function networkError(address: string, port: number, err: Error): PeerError {
  return new PeerError(
    'DSN_ERR_PEER',
    `${address}:${port} unreachable: ${err.message}`,
    undefined,
    { cause: err },
  );
}
