import { connect, type Socket } from 'node:net';
import { PeerError } from '../errors.js';
import { type Body, isChunked } from '../wire/body.js';
import { keepsAlive, MessageReader, USER_AGENT } from './http1.js';
import type { RequestOptions, Response, TransportStats } from './types.js';

export interface ClientLimits {
  /** Most connections to one endpoint at once; more requests wait their turn. */
  maxSocketsPerPeer: number;
  /** Most idle connections kept per endpoint. */
  maxIdlePerPeer: number;
  /** Most bytes of a response head, and of a response body. */
  maxHeadBytes: number;
  maxBodyBytes: number;
  /** Kernel keep-alive probes on idle connections after this long, in ms. */
  tcpKeepAliveMs: number;
  /** Sent as User-Agent with every request. */
  userAgent: string;
  /** Told once per established pooled connection the far end closes. */
  onHangup?: (host: string, port: number) => void;
}

/** One request on its way: where it goes, and how it ends. */
interface Call {
  host: string;
  port: number;
  /** The head, and the body with it when the body is small (one write). */
  bytes: Buffer;
  /** A body sent after the head, as it is (large, or made in chunks). */
  body: Body | null;
  options: RequestOptions;
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
  /** Sent once more on a new connection if a reused one was found closed. */
  retried: boolean;
  /** The connection it went out on, if any yet. */
  conn: Conn | null;
}

/** A pooled connection to one endpoint. */
interface Conn {
  socket: Socket;
  pool: Pool;
  reader: MessageReader;
  call: Call | null;
  /** Whether a request went out on it before (a reused socket may have been closed meanwhile). */
  used: boolean;
  /** Whether any byte of the current answer came. */
  answered: boolean;
  /** The TCP handshake completed (a refused connection is no hangup). */
  connected: boolean;
  /** Destroyed and out of its pool. */
  gone: boolean;
}

interface Pool {
  key: string;
  host: string;
  port: number;
  idle: Conn[];
  open: number;
  waiting: Call[];
}

/**
 * The peer protocol's HTTP/1.1 client on plain sockets (see http1.ts for
 * why): keep-alive connections pooled per endpoint, most recently used
 * first; one request per connection at a time; responses framed by
 * Content-Length, chunked coding or the end of the connection. A pooled
 * connection the far end closes is reported once through `onHangup`.
 */
export class PeerHttpClient {
  private readonly pools = new Map<string, Pool>();
  private readonly inFlight = new Set<Call>();
  private readonly watched = new WeakSet<AbortSignal>();
  private closed = false;
  constructor(
    private readonly stats: TransportStats,
    private readonly limits: ClientLimits,
  ) {}

  request(
    host: string,
    port: number,
    path: string,
    body: Body,
    options: RequestOptions,
  ): Promise<Response> {
    if (this.closed) return Promise.reject(new PeerError('DSN_ERR_STOPPED', 'transport is closed'));
    this.stats.requestsSent++;
    this.stats.bytesSent += body.length;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(stopped());
    if (signal && !this.watched.has(signal)) {
      // One listener per signal (the node's stop), not one per request.
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.abort(signal), { once: true });
    }
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const head =
      `POST ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: ${this.limits.userAgent}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
    // A small body goes in one buffer with the head (one write); a large
    // one is written after it, not copied.
    const whole = !isChunked(body) && body.length <= COPY_BODY_BYTES;
    const bytes = whole ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head);
    return new Promise<Response>((resolve, reject) => {
      const call: Call = {
        host,
        port,
        bytes,
        body: whole ? null : body,
        options,
        resolve,
        reject,
        timer: null,
        retried: false,
        conn: null,
      };
      call.timer = setTimeout(() => {
        this.fail(
          call,
          new PeerError(
            'DSN_ERR_TIMEOUT',
            `${host}:${port}${path} timed out after ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
      this.inFlight.add(call);
      this.dispatch(this.pool(host, port), call);
    });
  }

  /**
   * Opens one connection to an endpoint that has none and pools it as idle:
   * the first request there finds it ready (a request written while it is
   * still connecting waits in the socket until it is).
   */
  preconnect(host: string, port: number): void {
    if (this.closed) return;
    const pool = this.pool(host, port);
    if (pool.open === 0) pool.idle.push(this.open(pool));
  }

  close(): void {
    this.closed = true;
    for (const call of [...this.inFlight]) this.fail(call, stopped());
    for (const pool of this.pools.values()) {
      for (const c of [...pool.idle]) this.drop(c);
    }
    this.pools.clear();
  }

  private pool(host: string, port: number): Pool {
    const key = `${host}|${port}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { key, host, port, idle: [], open: 0, waiting: [] };
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Sends on an idle connection, a new one, or queues the call. */
  private dispatch(pool: Pool, call: Call): void {
    if (this.closed) {
      this.fail(call, stopped());
      return;
    }
    const idle = pool.idle.pop();
    if (idle) this.send(idle, call);
    else if (pool.open < this.limits.maxSocketsPerPeer) this.send(this.open(pool), call);
    else pool.waiting.push(call);
  }

  private open(pool: Pool): Conn {
    // Answers are read into one buffer shared by all connections (copied out
    // at once), not through the stream's 'data' events: a writer reads one
    // answer per peer per update.
    const socket = connect({
      host: pool.host,
      port: pool.port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => this.onRead(conn, n, buf) },
    });
    const conn: Conn = {
      socket,
      pool,
      reader: this.reader(),
      call: null,
      used: false,
      answered: false,
      connected: false,
      gone: false,
    };
    pool.open++;
    this.stats.connectionsOpened++;
    socket.once('connect', () => {
      conn.connected = true;
      socket.setKeepAlive(true, this.limits.tcpKeepAliveMs);
    });
    socket.on('end', () => this.onEnd(conn, null));
    socket.on('error', (err) => this.onEnd(conn, err));
    socket.on('close', () => this.onEnd(conn, null));
    return conn;
  }

  private reader(): MessageReader {
    return new MessageReader('response', {
      maxHeadBytes: this.limits.maxHeadBytes,
      maxBodyBytes: this.limits.maxBodyBytes,
    });
  }

  private send(conn: Conn, call: Call): void {
    conn.call = call;
    call.conn = conn;
    conn.answered = false;
    const socket = conn.socket;
    if (!call.body) {
      socket.write(call.bytes);
      return;
    }
    if (!isChunked(call.body)) {
      socket.cork();
      socket.write(call.bytes);
      socket.write(call.body);
      socket.uncork();
      return;
    }
    // Chunks are made (encrypted) as the socket takes them: the event loop
    // is free whenever the kernel's buffer is full, and other requests (a
    // small message to the same peer, on another connection) go meanwhile.
    socket.write(call.bytes);
    const chunks = call.body.chunks()[Symbol.iterator]();
    const more = () => {
      while (conn.call === call && !conn.gone) {
        const next = chunks.next();
        if (next.done) return;
        if (!socket.write(next.value)) {
          socket.once('drain', more);
          return;
        }
      }
    };
    more();
  }

  private onRead(conn: Conn, n: number, buf: Uint8Array): boolean {
    this.onData(conn, Buffer.from(buf.subarray(0, n)));
    return true;
  }

  private onData(conn: Conn, chunk: Buffer): void {
    const call = conn.call;
    if (!call) {
      // Bytes nobody asked for: the connection is out of step.
      this.drop(conn);
      return;
    }
    conn.answered = true;
    this.stats.bytesReceived += chunk.length;
    conn.reader.push(chunk);
    this.read(conn, call);
  }

  /** Completes the call if its whole answer is in; then reuses or closes the connection. */
  private read(conn: Conn, call: Call): void {
    let msg: ReturnType<MessageReader['next']>;
    try {
      msg = conn.reader.next();
      // An interim answer (100 Continue): the real one follows.
      while (msg && Number(msg.head.line[1]) < 200) msg = conn.reader.next();
    } catch (err) {
      this.fail(call, badAnswer(call, err as Error)); // closes the connection too
      return;
    }
    if (!msg) return;
    conn.call = null;
    conn.used = true;
    const reusable =
      keepsAlive(msg.head) && !conn.reader.atEnd && conn.reader.buffered === 0 && !this.closed;
    this.done(call, {
      status: Number(msg.head.line[1]),
      body: msg.body,
      sameImplementation: msg.head.headers.get('server') === USER_AGENT,
    });
    if (!reusable) {
      this.drop(conn);
      return;
    }
    const waiting = conn.pool.waiting.shift();
    if (waiting) this.send(conn, waiting);
    else if (conn.pool.idle.length < this.limits.maxIdlePerPeer) conn.pool.idle.push(conn);
    else this.drop(conn);
  }

  /** The connection ended or failed, from the far side or the network. */
  private onEnd(conn: Conn, err: Error | null): void {
    if (conn.gone) return;
    const call = conn.call;
    if (call && !err && conn.answered) {
      // A body that runs until the connection ends is complete now.
      conn.reader.end();
      this.read(conn, call);
      if (conn.call !== call) return;
    }
    const pool = conn.pool;
    conn.call = null;
    this.forget(conn);
    if (call) {
      if (conn.used && !conn.answered && !call.retried && !this.closed) {
        // A reused connection the far end had closed before the request
        // reached it (an idle timeout): once more on a new connection.
        call.retried = true;
        this.dispatch(this.pool(call.host, call.port), call);
      } else {
        this.fail(call, unreachable(call, err));
      }
    }
    if (conn.connected && !this.closed) this.limits.onHangup?.(pool.host, pool.port);
    this.next(pool);
  }

  /** Destroys a connection and takes it out of its pool (once). */
  private forget(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    conn.socket.destroy();
    const pool = conn.pool;
    pool.open--;
    const i = pool.idle.indexOf(conn);
    if (i >= 0) pool.idle.splice(i, 1);
    if (pool.open === 0 && pool.waiting.length === 0 && this.pools.get(pool.key) === pool) {
      this.pools.delete(pool.key);
    }
  }

  /** Closes a connection this side is done with (not a hangup of the far end). */
  private drop(conn: Conn): void {
    const call = conn.call;
    conn.call = null;
    this.forget(conn);
    if (call) this.fail(call, unreachable(call, null));
    // Its place is free: a call waiting for one goes now.
    this.next(conn.pool);
  }

  /** Starts a call that waited for a connection to this endpoint. */
  private next(pool: Pool): void {
    const call = pool.waiting.shift();
    if (call) this.dispatch(this.pool(pool.host, pool.port), call);
  }

  private done(call: Call, r: Response): void {
    if (!this.inFlight.delete(call)) return;
    if (call.timer) clearTimeout(call.timer);
    call.resolve(r);
  }

  /** Ends a call with an error; the connection it was on is closed (it is out of step). */
  private fail(call: Call, err: Error): void {
    if (!this.inFlight.delete(call)) return;
    if (call.timer) clearTimeout(call.timer);
    const pool = this.pools.get(`${call.host}|${call.port}`);
    const w = pool ? pool.waiting.indexOf(call) : -1;
    if (pool && w >= 0) pool.waiting.splice(w, 1);
    const conn = call.conn;
    if (conn && conn.call === call) this.drop(conn);
    call.reject(err);
  }

  private abort(signal: AbortSignal): void {
    for (const call of [...this.inFlight]) {
      if (call.options.signal === signal) this.fail(call, stopped());
    }
  }
}

const READ_BUFFER = Buffer.alloc(64 * 1024);
/** Bodies up to this size are copied behind the head and written with it. */
const COPY_BODY_BYTES = 64 * 1024;

function stopped(): PeerError {
  return new PeerError('DSN_ERR_STOPPED', 'node is stopped');
}

function unreachable(call: Call, err: Error | null): PeerError {
  const why = err ? err.message : 'connection closed';
  return new PeerError('DSN_ERR_PEER', `${call.host}:${call.port} unreachable: ${why}`, undefined, {
    cause: err ?? undefined,
  });
}

function badAnswer(call: Call, err: Error): PeerError {
  return new PeerError(
    'DSN_ERR_PEER',
    `${call.host}:${call.port} sent a malformed HTTP answer: ${err.message}`,
    undefined,
    { cause: err },
  );
}
