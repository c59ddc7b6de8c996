import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PeerError } from '../../src/errors.js';
import { HttpTransport } from '../../src/transport/http.js';
import { type Message, MessageReader } from '../../src/transport/http1.js';
import type { IncomingRequest, Response } from '../../src/transport/types.js';

/**
 * The hand-written HTTP/1.1 framing of the peer transport, on real sockets on
 * 127.0.0.1: its server against raw clients writing bytes, its client against
 * raw servers answering bytes.
 */
const HOST = '127.0.0.1';
const WIDE = { maxHeadBytes: 1 << 16, maxBodyBytes: 1 << 20 };
const T = { timeout: 15_000 };

/** Wakes whoever waits for a condition each time something happens. */
class Waiter {
  private wakers: (() => void)[] = [];
  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
  /** Resolves once `ready()` holds; rejects if `dead()` holds first. */
  async until(ready: () => boolean, dead: () => boolean = () => false, what = 'condition') {
    for (;;) {
      if (ready()) return;
      if (dead()) throw new Error(`gave up waiting for ${what}`);
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }
}

// ---------------------------------------------------------------------------
// A raw client: writes bytes, parses what comes back as HTTP answers.

class RawClient {
  raw = Buffer.alloc(0);
  readonly answers: Message[] = [];
  ended = false;
  readonly closed: Promise<void>;
  private readonly reader = new MessageReader('response', WIDE);
  private readonly waiter = new Waiter();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.reader.push(chunk);
      for (let m = this.reader.next(); m; m = this.reader.next()) this.answers.push(m);
      this.waiter.wake();
    });
    // A reset after the answer arrived is no failure of what is tested here.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.waiter.wake();
        resolve();
      });
    });
  }

  static async open(port: number, allowHalfOpen = false): Promise<RawClient> {
    const socket = connect({ host: HOST, port, allowHalfOpen });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits for the first `n` answers (interim ones included). */
  async answer(n: number): Promise<Message[]> {
    await this.waiter.until(
      () => this.answers.length >= n,
      () => this.ended,
      `${n} answers (got ${this.answers.length}: ${this.raw.toString('latin1')})`,
    );
    return this.answers.slice(0, n);
  }

  async rawIncludes(text: string): Promise<void> {
    await this.waiter.until(
      () => this.raw.includes(text),
      () => this.ended,
      JSON.stringify(text),
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const status = (m: Message | undefined) => Number(m?.head.line[1]);
const text = (m: Message | undefined) => Buffer.from(m?.body ?? []).toString('latin1');
const post = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;

// ---------------------------------------------------------------------------
// A raw server: parses requests, answers with whatever bytes a test writes.

interface Seen {
  conn: number;
  msg: Message;
  socket: Socket;
}

interface RawServer {
  port: number;
  accepted: Socket[];
  requests: Seen[];
  waiter: Waiter;
  /** Resolves when `socket` has closed. */
  closedSocket(socket: Socket): Promise<void>;
  close(): Promise<void>;
}

async function rawServer(answer: (seen: Seen, all: Seen[]) => void): Promise<RawServer> {
  const accepted: Socket[] = [];
  const requests: Seen[] = [];
  const waiter = new Waiter();
  const srv: Server = createServer((socket) => {
    const conn = accepted.length;
    accepted.push(socket);
    const reader = new MessageReader('request', WIDE);
    socket.on('error', () => {});
    socket.on('close', () => waiter.wake());
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let m = reader.next(); m; m = reader.next()) {
        const seen = { conn, msg: m, socket };
        requests.push(seen);
        answer(seen, requests);
        waiter.wake();
      }
    });
    waiter.wake();
  });
  srv.listen(0, HOST);
  await once(srv, 'listening');
  return {
    port: (srv.address() as AddressInfo).port,
    accepted,
    requests,
    waiter,
    closedSocket: (socket) => waiter.until(() => socket.destroyed && socket.closed),
    close: async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

const bodyOf = (s: Seen) => Buffer.from(s.msg.body).toString('latin1');

async function rejection(p: Promise<unknown>): Promise<PeerError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PeerError, `a PeerError, not ${String(err)}`);
    return err;
  }
  assert.fail('the request resolved');
}

// ---------------------------------------------------------------------------

describe('HTTP server on the wire (raw clients)', () => {
  const t = new HttpTransport();
  let port = 0;
  const seen: IncomingRequest[] = [];
  const clients: RawClient[] = [];
  const open = async (halfOpen = false) => {
    const c = await RawClient.open(port, halfOpen);
    clients.push(c);
    return c;
  };

  before(async () => {
    port = await t.listen(
      async (req): Promise<Response> => {
        seen.push(req);
        const body = Buffer.from(req.body);
        if (req.path === '/throw') throw new Error('handler failed');
        if (req.path === '/reject') return Promise.reject(new Error('handler failed'));
        if (req.path === '/after-end') {
          // Answers only once the client has ended its half of the connection.
          await new Promise<void>((resolve) => req.onHangup?.(resolve));
        }
        if (req.path === '/slow') {
          // Answers after later requests would have been, were they not in order.
          for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        }
        return { status: 200, body: Buffer.concat([Buffer.from(`${req.path}:`), body]) };
      },
      { host: HOST, port: 0, maxBodyBytes: 64 * 1024 },
    );
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.close();
  });

  it('answers pipelined requests in order on one connection', T, async () => {
    const c = await open();
    const from = seen.length;
    c.write(post('/slow', 'one') + post('/b', 'two') + post('/c', 'three') + post('/d', ''));
    const answers = await c.answer(4);
    assert.deepEqual(answers.map(text), ['/slow:one', '/b:two', '/c:three', '/d:']);
    assert.deepEqual(answers.map(status), [200, 200, 200, 200]);
    for (const a of answers) assert.equal(a.head.headers.get('connection'), undefined);
    const mine = seen.slice(from);
    assert.equal(mine.length, 4);
    assert.ok(
      mine.every((r) => r.connection === mine[0]?.connection),
      'one connection',
    );
    assert.equal(c.ended, false, 'the connection stays open');
  });

  it('answers "Expect: 100-continue" with 100 Continue before the body is sent', T, async () => {
    const c = await open();
    c.write('POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await c.rawIncludes('\r\n\r\n');
    assert.ok(
      c.raw.toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n'),
      c.raw.toString(),
    );
    assert.equal(c.answers.length, 1, 'only the interim answer so far');
    c.write('hello');
    const [interim, final] = await c.answer(2);
    assert.equal(status(interim), 100);
    assert.equal(status(final), 200);
    assert.equal(text(final), '/e:hello');
  });

  it('sends no 100 Continue for a request it refuses as too large (413)', T, async () => {
    const c = await open();
    c.write(
      'POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n',
    );
    const [a] = await c.answer(1);
    assert.equal(status(a), 413);
    assert.equal(a?.head.headers.get('connection'), 'close');
    assert.ok(!c.raw.toString('latin1').includes('100 Continue'));
    await c.closed;
  });

  it('refuses a declared body over maxBodyBytes with 413 before any of it is sent', T, async () => {
    const c = await open();
    const before = seen.length;
    c.write('POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n');
    const [a] = await c.answer(1);
    assert.equal(status(a), 413);
    await c.closed;
    assert.equal(seen.length, before, 'the handler never saw it');
  });

  it('closes after answering an HTTP/1.0 request without keep-alive', T, async () => {
    const c = await open();
    c.write('POST /old HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi');
    const [a] = await c.answer(1);
    assert.equal(status(a), 200);
    assert.equal(text(a), '/old:hi');
    assert.equal(a?.head.headers.get('connection'), 'close');
    await c.closed;
    assert.equal(c.answers.length, 1);
  });

  it('keeps an HTTP/1.0 connection that asks for keep-alive', T, async () => {
    const c = await open();
    const ka = 'POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n';
    c.write(`${ka}1`);
    const [a] = await c.answer(1);
    assert.equal(a?.head.headers.get('connection'), undefined);
    c.write(`${ka}2`);
    const [, b] = await c.answer(2);
    assert.equal(text(b), '/k:2');
    assert.equal(c.ended, false);
  });

  it('answers GET with 405 and serves a POST on the same connection after it', T, async () => {
    const c = await open();
    const before = seen.length;
    c.write('GET /g HTTP/1.1\r\nHost: x\r\n\r\n');
    const [a] = await c.answer(1);
    assert.equal(status(a), 405);
    assert.equal(a?.head.headers.get('connection'), undefined, 'the connection is kept');
    assert.equal(seen.length, before, 'the handler never sees a GET');
    c.write(post('/p', 'after'));
    const [, b] = await c.answer(2);
    assert.equal(status(b), 200);
    assert.equal(text(b), '/p:after');
    assert.equal(c.ended, false);
  });

  it(
    'refuses Transfer-Encoding with Content-Length: 400, Connection: close, closed',
    T,
    async () => {
      const c = await open();
      const before = seen.length;
      c.write(
        'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n' +
          `0\r\n\r\n${post('/smuggled', 'x')}`,
      );
      const [a] = await c.answer(1);
      assert.equal(status(a), 400);
      assert.equal(a?.head.headers.get('connection'), 'close');
      await c.closed;
      assert.equal(c.answers.length, 1, 'nothing after the refusal is answered');
      assert.equal(seen.length, before, 'neither request reached the handler');
    },
  );

  it('refuses a 20 KiB head with 431 and closes', T, async () => {
    const c = await open();
    c.write(
      `POST /h HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
    );
    const [a] = await c.answer(1);
    assert.equal(status(a), 431);
    assert.equal(a?.head.headers.get('connection'), 'close');
    await c.closed;
  });

  it('answers 500 when the handler throws or rejects, and keeps serving', T, async () => {
    const c = await open();
    c.write(post('/throw', 'a'));
    const [a] = await c.answer(1);
    assert.equal(status(a), 500);
    c.write(post('/reject', 'b') + post('/fine', 'c'));
    const [, b, d] = await c.answer(3);
    assert.equal(status(b), 500);
    assert.equal(status(d), 200);
    assert.equal(text(d), '/fine:c');
    assert.equal(c.ended, false, 'same connection');
  });

  it('gives the handler the path without its query and the exact body bytes', T, async () => {
    const c = await open();
    const from = seen.length;
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    c.write(
      Buffer.concat([
        Buffer.from(`POST /q/r?x=1&y=%20 HTTP/1.1\r\nHost: x\r\nContent-Length: 256\r\n\r\n`),
        bytes,
      ]),
    );
    await c.answer(1);
    assert.equal(seen[from]?.path, '/q/r');
    assert.deepEqual(Buffer.from(seen[from]?.body ?? []), bytes);
    assert.equal(seen[from]?.remoteAddress, HOST);
  });

  it('gives the handler a chunked body decoded, whatever the chunks', T, async () => {
    const c = await open();
    const from = seen.length;
    c.write('POST /chunked?z HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n');
    c.write(Buffer.from([0, 1, 2, 0xff]));
    c.write('\r\n3\r\n\r\n\x00\r\n0\r\nX-Trailer: t\r\n\r\n');
    const [a] = await c.answer(1);
    assert.equal(status(a), 200);
    assert.equal(seen[from]?.path, '/chunked');
    assert.deepEqual(
      Buffer.from(seen[from]?.body ?? []),
      Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x00]),
    );
  });

  it('answers a client that half-closes right after its request, then closes', T, async () => {
    const c = await open(true);
    c.write(post('/after-end', 'bye'));
    c.socket.end();
    const [a] = await c.answer(1);
    assert.equal(text(a), '/after-end:bye');
    await c.closed;
  });
});

// ---------------------------------------------------------------------------

describe('HTTP client on the wire (raw servers)', () => {
  const servers: RawServer[] = [];
  const transports: HttpTransport[] = [];
  const server = async (answer: (seen: Seen, all: Seen[]) => void) => {
    const s = await rawServer(answer);
    servers.push(s);
    return s;
  };
  const transport = (opts?: ConstructorParameters<typeof HttpTransport>[0]) => {
    const t = new HttpTransport(opts);
    transports.push(t);
    return t;
  };
  const send = (
    t: HttpTransport,
    port: number,
    body: string,
    timeoutMs = 5000,
    signal?: AbortSignal,
  ) =>
    t.request(HOST, port, '/x', Buffer.from(body), signal ? { timeoutMs, signal } : { timeoutMs });
  const str = (r: Response) => Buffer.from(r.body).toString('latin1');

  after(async () => {
    for (const t of transports) await t.close();
    for (const s of servers) await s.close();
  });

  it('reads a chunked answer, in pieces, and reuses the connection after it', T, async () => {
    const s = await server(({ socket }) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel');
      setImmediate(() => socket.write('lo\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n'));
    });
    const t = transport();
    const r = await send(t, s.port, 'a');
    assert.equal(r.status, 200);
    assert.equal(str(r), 'hello world');
    const again = await send(t, s.port, 'b');
    assert.equal(str(again), 'hello world');
    assert.equal(s.accepted.length, 1, 'the chunked answer ended where it should');
  });

  it('reads an HTTP/1.0 answer delimited by the end of the connection', T, async () => {
    const s = await server(({ socket }) => {
      socket.write('HTTP/1.0 200 OK\r\nServer: old\r\n\r\nfirst part, ');
      setImmediate(() => socket.end('second part'));
    });
    let hangups = 0;
    const t = transport({ onHangup: () => hangups++ });
    const r = await send(t, s.port, 'a');
    assert.equal(r.status, 200);
    assert.equal(str(r), 'first part, second part');
    // A second request needs a new connection (the first ended); its
    // completion shows the first connection's end was fully processed.
    assert.equal(str(await send(t, s.port, 'b')), 'first part, second part');
    assert.equal(s.accepted.length, 2);
    assert.equal(hangups, 0, 'an answer delimited by close is no hangup');
  });

  it('skips a 100 Continue and reads the answer after it', T, async () => {
    const s = await server(({ socket, msg }) => {
      const b = Buffer.from(msg.body).toString();
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      if (b === 'together') socket.write(ok(`got ${b}`));
      else setImmediate(() => socket.write(ok(`got ${b}`)));
    });
    const t = transport();
    const r = await send(t, s.port, 'apart');
    assert.equal(r.status, 200);
    assert.equal(str(r), 'got apart');
    const r2 = await send(t, s.port, 'together');
    assert.equal(r2.status, 200);
    assert.equal(str(r2), 'got together');
    assert.equal(s.accepted.length, 1);
  });

  it(
    'rejects a garbage status line with a PeerError; the next request elsewhere works',
    T,
    async () => {
      const bad = await server(({ socket }) => socket.write('garbage\r\n\r\n'));
      const good = await server(({ socket, msg }) => socket.write(ok(`ok ${text(msg)}`)));
      const t = transport();
      const err = await rejection(send(t, bad.port, 'a'));
      assert.equal(err.code, 'DSN_ERR_PEER');
      assert.ok(err.message.includes(`${HOST}:${bad.port}`), err.message);
      const [sock] = bad.accepted;
      assert.ok(sock);
      await bad.closedSocket(sock); // the client dropped the out-of-step connection
      const r = await send(t, good.port, 'b');
      assert.equal(r.status, 200);
      assert.equal(str(r), 'ok b');
      // Binary junk, then the connection ends: also a PeerError.
      const junk = await server(({ socket }) => socket.end(Buffer.from([0, 0xff, 0x13, 0x37])));
      assert.equal((await rejection(send(t, junk.port, 'c'))).code, 'DSN_ERR_PEER');
      assert.equal(str(await send(t, good.port, 'd')), 'ok d');
    },
  );

  it('says a garbage answer is malformed, with the parse error as cause', {
    ...T,
  }, async () => {
    const bad = await server(({ socket }) => socket.write('garbage\r\n\r\n'));
    const t = transport();
    const err = await rejection(send(t, bad.port, 'a'));
    assert.match(err.message, /malformed/);
    assert.ok(err.cause instanceof Error);
  });

  it(
    'reports a kept-alive connection the server closes while idle, and reconnects',
    T,
    async () => {
      const s = await server(({ socket }) => socket.write(ok('fine')));
      const heard: string[] = [];
      let hungUp: () => void = () => {};
      const hangup = new Promise<void>((resolve) => {
        hungUp = resolve;
      });
      const t = transport({
        onHangup: (address, p) => {
          heard.push(`${address}:${p}`);
          hungUp();
        },
      });
      assert.equal(str(await send(t, s.port, 'a')), 'fine');
      s.accepted[0]?.end(); // the server's idle timeout
      await hangup;
      assert.equal(str(await send(t, s.port, 'b')), 'fine');
      assert.equal(s.accepted.length, 2);
      assert.deepEqual(heard, [`${HOST}:${s.port}`]);
    },
  );

  it(
    'sends a request once more on a new connection when a reused one was closed before answering',
    T,
    async () => {
      // The server closes the kept-alive connection just as the second request
      // arrives on it (its idle timeout and the request crossing on the wire).
      const s = await server(({ socket, conn, msg }, all) => {
        const onThisConn = all.filter((x) => x.conn === conn).length;
        if (conn === 0 && onThisConn === 2) socket.destroy();
        else socket.write(ok(`answer to ${text(msg)}`));
      });
      const heard: string[] = [];
      const t = transport({ onHangup: (address, p) => heard.push(`${address}:${p}`) });
      assert.equal(str(await send(t, s.port, 'first')), 'answer to first');
      const r = await send(t, s.port, 'second');
      assert.equal(r.status, 200);
      assert.equal(str(r), 'answer to second');
      assert.deepEqual(
        s.requests.map((x) => [x.conn, bodyOf(x)]),
        [
          [0, 'first'],
          [0, 'second'],
          [1, 'second'],
        ],
      );
      assert.equal(s.accepted.length, 2);
      assert.deepEqual(heard, [`${HOST}:${s.port}`], 'onHangup called once');
    },
  );

  it('does not report a connection closed after a "Connection: close" answer', T, async () => {
    const s = await server(({ socket }) => socket.end(ok('bye', 'Connection: close\r\n')));
    let hangups = 0;
    const t = transport({ onHangup: () => hangups++ });
    for (const b of ['a', 'b', 'c']) assert.equal(str(await send(t, s.port, b)), 'bye');
    assert.equal(s.accepted.length, 3);
    assert.equal(hangups, 0);
  });

  it('runs 20 concurrent requests to one endpoint on at most 8 connections', T, async () => {
    const s = await server(({ socket, msg }) => {
      setImmediate(() => socket.write(ok(`re ${text(msg)}`)));
    });
    const t = transport();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(t, s.port, `n${i}`)),
    );
    assert.deepEqual(
      results.map((r) => [r.status, str(r)]),
      Array.from({ length: 20 }, (_, i) => [200, `re n${i}`]),
    );
    assert.equal(s.requests.length, 20);
    assert.ok(s.accepted.length <= 8, `${s.accepted.length} connections`);
    assert.ok(s.accepted.length > 1, 'requests do run side by side');
    // Idle connections are reused afterwards: no new connection.
    const before = s.accepted.length;
    assert.equal(str(await send(t, s.port, 'later')), 're later');
    assert.equal(s.accepted.length, before);
  });

  it('keeps to a smaller maxSocketsPerPeer, queueing the rest', T, async () => {
    const s = await server(({ socket, msg }) => socket.write(ok(`re ${text(msg)}`)));
    const t = transport({ maxSocketsPerPeer: 2 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(t, s.port, `n${i}`)),
    );
    assert.deepEqual(
      results.map(str),
      Array.from({ length: 10 }, (_, i) => `re n${i}`),
    );
    assert.equal(s.accepted.length, 2);
  });

  it(
    'times out a request that gets no answer; the next request gets its own answer',
    T,
    async () => {
      let held: Socket | null = null;
      const s = await server(({ socket, msg }) => {
        const b = text(msg);
        if (b === 'slow') {
          held = socket;
          return;
        }
        // The answer to the timed-out request comes late, on its connection.
        if (held) {
          held.write(ok('late'));
          held = null;
        }
        socket.write(ok(b));
      });
      const t = transport();
      const err = await rejection(send(t, s.port, 'slow', 150));
      assert.equal(err.code, 'DSN_ERR_TIMEOUT');
      const r = await send(t, s.port, 'mine');
      assert.equal(str(r), 'mine');
      assert.equal(s.accepted.length, 2, 'the timed-out connection is not reused');
      const [first] = s.accepted;
      assert.ok(first);
      await s.closedSocket(first);
    },
  );

  it('sends a queued request once the request ahead of it timed out', {
    ...T,
  }, async () => {
    const s = await server(({ socket, msg }) => {
      if (text(msg) !== 'slow') socket.write(ok(text(msg)));
    });
    const t = transport({ maxSocketsPerPeer: 1 });
    const slow = send(t, s.port, 'slow', 150);
    const queued = send(t, s.port, 'queued', 1500);
    assert.equal((await rejection(slow)).code, 'DSN_ERR_TIMEOUT');
    const r = await queued;
    assert.equal(str(r), 'queued');
  });

  it('rejects in-flight requests with DSN_ERR_STOPPED when their signal aborts', T, async () => {
    const s = await server(({ socket, msg }) => {
      if (text(msg) === 'free') return; // answered below
      if (text(msg) === 'now') socket.write(ok('now'));
    });
    const t = transport();
    const ac = new AbortController();
    const a = send(t, s.port, 'held-a', 5000, ac.signal);
    const b = send(t, s.port, 'held-b', 5000, ac.signal);
    const other = send(t, s.port, 'free', 5000, new AbortController().signal);
    const unsignalled = send(t, s.port, 'free', 5000);
    await s.waiter.until(
      () => s.requests.length === 4,
      () => false,
      '4 requests',
    );
    ac.abort();
    assert.equal((await rejection(a)).code, 'DSN_ERR_STOPPED');
    assert.equal((await rejection(b)).code, 'DSN_ERR_STOPPED');
    for (const x of s.requests.filter((x) => text(x.msg).startsWith('held'))) {
      await s.closedSocket(x.socket);
    }
    // The requests without that signal are still waiting for their answers.
    for (const x of s.requests.filter((x) => text(x.msg) === 'free')) x.socket.write(ok('freed'));
    assert.equal(str(await other), 'freed');
    assert.equal(str(await unsignalled), 'freed');
    // An already aborted signal rejects at once, without a connection.
    const before = s.accepted.length;
    assert.equal(
      (await rejection(send(t, s.port, 'now', 5000, ac.signal))).code,
      'DSN_ERR_STOPPED',
    );
    assert.equal(s.accepted.length, before);
    assert.equal(str(await send(t, s.port, 'now')), 'now');
  });

  it('rejects a request to a port nobody listens on, without a hangup', T, async () => {
    const s = await server(() => {});
    const port = s.port;
    await s.close();
    let hangups = 0;
    const t = transport({ onHangup: () => hangups++ });
    const err = await rejection(send(t, port, 'a'));
    assert.equal(err.code, 'DSN_ERR_PEER');
    assert.equal(hangups, 0);
  });
});
