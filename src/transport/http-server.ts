import { createServer, type Server, type Socket } from 'node:net';
import { DsnError } from '../errors.js';
import type { BodySink } from '../wire/body.js';
import {
  type Head,
  type HeadAction,
  HttpError,
  keepsAlive,
  type Message,
  MessageReader,
  reason,
  USER_AGENT,
} from './http1.js';
import {
  type ListenOptions,
  plainAddress,
  type RequestHandler,
  type Response,
  type TransportStats,
} from './types.js';

export interface ServerLimits {
  /** Most bytes of a request head. */
  maxHeadBytes: number;
  /** Time allowed for a request's head, and for the whole request, in ms. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long, in ms. */
  keepAliveTimeoutMs: number;
  /** How often requests read in part are checked against the timeouts above, in ms. */
  checkIntervalMs: number;
  /** Most open connections at once; more are closed on arrival. */
  maxConnections: number;
  /**
   * Bytes of declared bodies being read at once. A large body that does not
   * fit waits, unread, until others are done (one that alone exceeds it is
   * read when nothing else is): memory stays bounded however many peers send
   * big messages together. Small bodies never wait.
   */
  maxBodyMemory: number;
  /** Sent as the Server field of every answer (USER_AGENT: this implementation). */
  serverName?: string;
}

/** One client connection: requests are answered one at a time, in order. */
interface Conn {
  socket: Socket;
  reader: MessageReader;
  busy: boolean;
  /** When the request being read began (first byte), or 0. */
  startedAt: number;
  /** Body bytes counted against maxBodyMemory for the request being read. */
  reserved: number;
  /** Waiting for room under maxBodyMemory; the sink to read its body with then. */
  waiting: { head: Head; path: string; length: number } | null;
  lastActive: number;
  /** The far side ended its half: answer what was read, then close. */
  ended: boolean;
  closing: boolean;
  /** Since when answers wait unsent (over MAX_UNSENT), or 0. */
  stalledAt: number;
  /**
   * The handler asked to hear when the far end closes it (the node does so
   * for connections a peer authenticated on): it is not closed for being
   * idle (unless the server is crowded, see closeIdle), since to the node
   * that close would look like the peer going away (and cost a PING, once
   * per idle connection and keep-alive timeout).
   */
  watched: boolean;
}

/**
 * The peer protocol's HTTP/1.1 server on plain sockets (see http1.ts for
 * why). POST only; bodies bounded (413, before a byte of an oversized
 * declared body is read); heads bounded (431); slow requests cut off (408);
 * pipelined requests answered in order; a handler that throws answers 500.
 * Timeouts are checked by one timer per server, not one per request.
 */
export class PeerHttpServer {
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  private sweep: ReturnType<typeof setInterval> | null = null;
  private partial: ReturnType<typeof setTimeout> | null = null;
  private bodyMemory = 0;
  private readonly queued: Conn[] = [];

  constructor(
    private readonly handler: RequestHandler,
    private readonly opts: ListenOptions,
    private readonly stats: TransportStats,
    private readonly limits: ServerLimits,
  ) {}

  async listen(): Promise<number> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.server = null;
        reject(listenError(err, this.opts));
      });
      server.listen(this.opts.port, this.opts.host, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve();
      });
    });
    // Idle connections are looked at every quarter of their timeout; partly
    // read requests every checkIntervalMs, only while there are any (most
    // requests arrive whole, in one read: no timer per request).
    this.sweep = setInterval(() => this.closeIdle(), this.limits.keepAliveTimeoutMs / 4);
    this.sweep.unref();
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.opts.port;
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    if (this.partial) clearTimeout(this.partial);
    this.sweep = null;
    this.partial = null;
    const server = this.server;
    this.server = null;
    for (const c of this.conns) c.socket.destroy();
    this.conns.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.conns.size >= this.limits.maxConnections) {
      socket.destroy();
      return;
    }
    const now = Date.now();
    const bodyLimit = this.opts.bodyLimit;
    const reader = new MessageReader('request', {
      maxHeadBytes: this.limits.maxHeadBytes,
      maxBodyBytes: this.opts.maxBodyBytes,
      bodyLimit: bodyLimit && ((head) => bodyLimit(pathOf(head))),
    });
    const conn: Conn = {
      socket,
      reader,
      busy: false,
      startedAt: 0,
      reserved: 0,
      waiting: null,
      lastActive: now,
      ended: false,
      closing: false,
      stalledAt: 0,
      watched: false,
    };
    // Watched connections stay open while idle: the kernel's keep-alive
    // probes find a peer host that vanished without closing them.
    socket.setKeepAlive(true, this.limits.keepAliveTimeoutMs / 2);
    reader.onHead = (head, length) => this.onHead(conn, head, length ?? 0);
    this.conns.add(conn);
    socket.on('data', (chunk: Buffer) => {
      if (conn.closing) return;
      conn.lastActive = Date.now();
      if (!reader.started) conn.startedAt = conn.lastActive;
      reader.push(chunk);
      // Requests pipelined behind one being answered wait in the kernel.
      if (conn.busy && reader.buffered > MAX_UNREAD) socket.pause();
      this.pump(conn);
    });
    socket.on('end', () => {
      conn.ended = true;
      if (!conn.busy) this.finish(conn);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.conns.delete(conn);
      this.unreserve(conn);
    });
  }

  /**
   * A request's head is in: room for its body under maxBodyMemory (or wait
   * for it), a sink to read it with if the owner wants one, 100-continue.
   */
  private onHead(conn: Conn, head: Head, length: number): HeadAction | undefined {
    const path = pathOf(head);
    const fits = this.bodyMemory === 0 || this.bodyMemory + length <= this.limits.maxBodyMemory;
    if (length >= WAITS_FOR_MEMORY && !fits) {
      conn.waiting = { head, path, length };
      conn.socket.pause();
      this.queued.push(conn);
      return { hold: true };
    }
    this.continueIfAsked(conn, head);
    return { sink: this.reserve(conn, path, length) };
  }

  private reserve(conn: Conn, path: string, length: number): BodySink | null {
    conn.reserved = length;
    this.bodyMemory += length;
    return length > 0 ? (this.opts.sink?.(path, length) ?? null) : null;
  }

  /** The body is read (or the connection gone): its room goes to requests waiting for it. */
  private unreserve(conn: Conn): void {
    this.bodyMemory -= conn.reserved;
    conn.reserved = 0;
    const w = this.queued.indexOf(conn);
    if (w >= 0) this.queued.splice(w, 1);
    while (this.queued.length > 0) {
      const next = this.queued[0] as Conn;
      const wanted = next.waiting as NonNullable<Conn['waiting']>;
      if (this.bodyMemory > 0 && this.bodyMemory + wanted.length > this.limits.maxBodyMemory)
        return;
      this.queued.shift();
      next.waiting = null;
      next.reader.release(this.reserve(next, wanted.path, wanted.length));
      this.continueIfAsked(next, wanted.head);
      // Its time runs from now: it waited for this server, not for the client.
      next.startedAt = Date.now();
      next.lastActive = next.startedAt;
      if (next.stalledAt === 0) next.socket.resume();
      this.pump(next);
    }
  }

  /** Answers every complete request read so far, one at a time. */
  private pump(conn: Conn): void {
    while (!conn.busy && !conn.closing) {
      let msg: ReturnType<MessageReader['next']>;
      try {
        msg = conn.reader.next();
      } catch (err) {
        const e = err instanceof HttpError ? err : new HttpError(400, 'bad request');
        this.write(conn, e.status, e.message, true);
        return;
      }
      if (!msg) {
        if (conn.reader.holding) return;
        if (!conn.reader.started) conn.startedAt = 0;
        else this.watchPartial(); // part of a request is in: it has a deadline
        if (conn.ended) this.finish(conn);
        return;
      }
      conn.startedAt = conn.reader.started ? Date.now() : 0;
      if (conn.reserved > 0) this.unreserve(conn);
      const { head, body, streamed } = msg;
      const keep = keepsAlive(head);
      if (head.line[0] !== 'POST') {
        this.write(conn, 405, 'method not allowed', !keep);
        continue;
      }
      this.stats.requestsServed++;
      const r = this.call(conn, head, body, streamed, msg.bodyBytes);
      if (r instanceof Promise) {
        conn.busy = true;
        void r.then((res) => {
          conn.busy = false;
          this.answer(conn, res, keep);
          this.pump(conn);
        });
        return;
      }
      this.answer(conn, r, keep);
    }
  }

  /** Runs the handler; a throw or a rejection becomes a 500. */
  private call(
    conn: Conn,
    head: Head,
    body: Buffer,
    streamed: Message['streamed'],
    bodyBytes: number,
  ): Response | Promise<Response> {
    const socket = conn.socket;
    try {
      const r = this.handler({
        path: pathOf(head),
        body,
        ...(streamed && { streamed, bodyBytes }),
        remoteAddress: plainAddress(socket.remoteAddress),
        connection: socket,
        onHangup: (listener) => {
          conn.watched = true;
          onFarEnd(socket, listener);
        },
        sameImplementation: head.headers.get('user-agent') === USER_AGENT,
      });
      return r instanceof Promise ? r.catch(() => INTERNAL) : r;
    } catch {
      return INTERNAL;
    }
  }

  private answer(conn: Conn, r: Response, keep: boolean): void {
    this.write(conn, r.status, r.body, !keep);
    if (conn.socket.isPaused() && conn.stalledAt === 0) conn.socket.resume();
  }

  /** "Expect: 100-continue": say go on before the client sends the body. */
  private continueIfAsked(conn: Conn, head: Head): void {
    if ((head.headers.get('expect') ?? '').toLowerCase() === '100-continue' && head.v11) {
      conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  /** Answers; `close` ends the connection after it (refusals of malformed requests, timeouts). */
  private write(conn: Conn, status: number, body: Uint8Array | string, close: boolean): void {
    const socket = conn.socket;
    if (conn.closing || socket.destroyed) return;
    const name = this.limits.serverName ?? USER_AGENT;
    socket.write(status === 204 && !close ? noContent(name) : answer(status, body, close, name));
    conn.lastActive = Date.now();
    if (close) {
      conn.closing = true;
      socket.end();
      // A client that keeps sending after a refusal is not read any further.
      socket.once('finish', () => socket.destroy());
    } else if (socket.writableLength > MAX_UNSENT && conn.stalledAt === 0) {
      // A client that pipelines without reading its answers waits for them,
      // and is cut off if it does not read them within the request timeout.
      conn.stalledAt = Date.now();
      socket.pause();
      socket.once('drain', () => {
        conn.stalledAt = 0;
        socket.resume();
      });
      this.watchPartial();
    }
  }

  /** The client ended its half and nothing is pending: close ours. */
  private finish(conn: Conn): void {
    if (conn.closing) return;
    conn.closing = true;
    conn.socket.end();
  }

  /**
   * Times out requests read in part, and clients that do not read their
   * answers; runs only while there are such.
   */
  private watchPartial(): void {
    if (this.partial || !this.server) return;
    this.partial = setTimeout(() => {
      this.partial = null;
      const now = Date.now();
      let pending = false;
      for (const c of this.conns) {
        if (c.closing) continue;
        if (c.stalledAt > 0) {
          if (now - c.stalledAt > this.limits.requestTimeoutMs) c.socket.destroy();
          else pending = true;
          continue;
        }
        if (c.busy || c.waiting || !c.reader.started || c.startedAt === 0) continue;
        if (timedOut(c, now, this.limits)) this.write(c, 408, 'request timed out', true);
        else pending = true;
      }
      if (pending) this.watchPartial();
    }, this.limits.checkIntervalMs);
    this.partial.unref();
  }

  /**
   * Closes keep-alive connections idle for longer than keepAliveTimeoutMs:
   * watched ones only while more than three quarters of the connection
   * slots are taken (whoever holds the network key could otherwise fill
   * them all with idle connections for good).
   */
  private closeIdle(): void {
    const now = Date.now();
    const crowded = this.conns.size > (this.limits.maxConnections * 3) / 4;
    for (const c of this.conns) {
      if (c.closing || c.busy || c.reader.started || (c.watched && !crowded)) continue;
      if (now - c.lastActive > this.limits.keepAliveTimeoutMs) this.finish(c);
    }
  }
}

/**
 * A head must be complete within headersTimeoutMs. A body may take
 * requestTimeoutMs plus its length at 1 MB/s (the Python client's rule for
 * its own timeouts), so a big transfer that keeps moving is not cut; one
 * from which nothing came for requestTimeoutMs is.
 */
function timedOut(c: Conn, now: number, limits: ServerLimits): boolean {
  if (!c.reader.inBody) return now - c.startedAt > limits.headersTimeoutMs;
  if (now - c.lastActive > limits.requestTimeoutMs) return true;
  return now - c.startedAt > limits.requestTimeoutMs + c.reader.declared / 1000;
}

function pathOf(head: Head): string {
  const target = head.line[1];
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** Bodies this large or larger wait for room under maxBodyMemory; smaller ones never do. */
const WAITS_FOR_MEMORY = 1024 * 1024;

const INTERNAL: Response = { status: 500, body: Buffer.from('internal error') };

/** Bytes of pipelined requests read ahead, and of answers not yet sent, before a client is paused. */
const MAX_UNREAD = 256 * 1024;
const MAX_UNSENT = 1024 * 1024;

/** Calls `listener` once when the far side closes `socket` (FIN or reset). */
export function onFarEnd(socket: Socket, listener: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    listener();
  };
  socket.once('end', once);
  socket.once('error', once);
}

function listenError(err: NodeJS.ErrnoException, opts: ListenOptions): DsnError {
  const what = `${opts.host}:${opts.port}`;
  const message =
    err.code === 'EADDRINUSE'
      ? `port ${opts.port} is already in use (${what})`
      : err.code === 'EACCES'
        ? `no permission to listen on ${what}`
        : `cannot listen on ${what}: ${err.message}`;
  return new DsnError('DSN_ERR_CONFIG', message, { cause: err });
}

/** An answer's bytes: head and body. */
function answer(
  status: number,
  body: Uint8Array | string,
  close: boolean,
  serverName: string,
): Buffer {
  const text = typeof body === 'string';
  const b = text ? Buffer.from(body) : body;
  // A 204 has no body and says nothing of one (RFC 9110 §8.6).
  const framing =
    status === 204
      ? ''
      : `Content-Type: ${text ? 'text/plain; charset=utf-8' : 'application/octet-stream'}\r\n` +
        `Content-Length: ${b.length}\r\n`;
  const head =
    `HTTP/1.1 ${status} ${reason(status)}\r\n` +
    `Date: ${httpDate()}\r\n` +
    // Tells a node of this implementation it may use the extra messages here.
    `Server: ${serverName}\r\n` +
    framing +
    (close ? 'Connection: close\r\n' : '') +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/**
 * The commonest answer (an UPDATE's or a PING's, see handlers.ts), made once
 * a second: the same bytes go to every connection until the Date changes.
 */
const noContentBytes = new Map<string, { date: string; bytes: Buffer }>();
function noContent(serverName: string): Buffer {
  const date = httpDate();
  let made = noContentBytes.get(serverName);
  if (made?.date !== date) {
    made = { date, bytes: answer(204, '', false, serverName) };
    noContentBytes.set(serverName, made);
  }
  return made.bytes;
}

let dateSecond = 0;
let dateText = '';
/** The Date field, formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
