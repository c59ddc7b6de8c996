import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS, DEFAULT_TIMING, type DSNodeServer } from '../../src/index.js';
import { HttpTransport } from '../../src/transport/http.js';
import { type Message, MessageReader } from '../../src/transport/http1.js';
import type {
  IncomingRequest,
  ListenOptions,
  RequestHandler,
  Response,
} from '../../src/transport/types.js';
import { MsgType, PING_PAYLOAD } from '../../src/wire/frame.js';
import { allSee, LOCAL, TestNet, until } from '../helpers/net.js';
import { Forger } from '../helpers/raw.js';

/**
 * Attacks on the hand-written HTTP/1.1 framing of the peer transport
 * (src/transport/http1.ts, http-server.ts), with raw sockets on 127.0.0.1:
 * request smuggling, pipelining floods, absurd chunking, slow requests,
 * connection floods and resets. Most run against a live node with its
 * default limits, whose transport is wrapped only to count what reaches the
 * handler; those needing short timeouts or a tiny connection limit run
 * against a bare HttpTransport. After every attack the target must still
 * serve a legitimate request. No test sleeps: each waits for an event (an
 * answer, a 'close', a 'pause').
 */
const T = { timeout: 60_000 };
/** What the server writes before it stops reading a client that does not read (http-server.ts). */
const MAX_UNSENT = 1024 * 1024;

// ---------------------------------------------------------------------------
// A raw client: writes bytes, parses what comes back as HTTP answers.

class Raw {
  readonly answers: Message[] = [];
  /** The first bytes received, for failure messages. */
  seen = '';
  isClosed = false;
  /** Set if what came back is not HTTP. */
  garbage: Error | null = null;
  readonly closed: Promise<void>;
  readonly localPort: number;
  private readonly reader = new MessageReader('response', {
    maxHeadBytes: 1 << 16,
    maxBodyBytes: 1 << 24,
  });
  private wakers: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (chunk: Buffer) => {
      if (this.seen.length < 2048) this.seen += chunk.toString('latin1');
      this.reader.push(chunk);
      try {
        for (let m = this.reader.next(); m; m = this.reader.next()) this.answers.push(m);
      } catch (err) {
        this.garbage = err as Error;
      }
      this.wake();
    });
    // A reset after the server refused us is no failure of what is tested here.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
  }

  static async open(port: number): Promise<Raw> {
    const socket = connect({ host: LOCAL, port });
    await once(socket, 'connect');
    return new Raw(socket);
  }

  write(data: string | Uint8Array): void {
    if (this.socket.writable) {
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    }
  }

  /** Resolves once `ready()` holds; rejects if the connection closes first. */
  async until(ready: () => boolean, what: string): Promise<void> {
    for (;;) {
      if (ready()) return;
      if (this.isClosed || this.garbage) {
        throw new Error(`closed before ${what}; got ${JSON.stringify(this.seen.slice(0, 300))}`);
      }
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }

  /** The first `n` answers (interim 100s included). */
  async answer(n: number): Promise<Message[]> {
    await this.until(() => this.answers.length >= n, `${n} answers`);
    return this.answers.slice(0, n);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}

const status = (m: Message | undefined) => Number(m?.head.line[1]);
const header = (m: Message | undefined, name: string) => m?.head.headers.get(name);

/** One POST as bytes: `extra` header lines go before the Content-Length. */
function post(path: string, body: Uint8Array | string, extra = '', version = 'HTTP/1.1'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : Buffer.from(body);
  const head = `POST ${path} ${version}\r\nHost: x\r\n${extra}Content-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when `socket` has closed (a reset too: unlike `once`, an 'error' does not reject). */
function closeOf(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

const bytes = (...parts: (string | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

// ---------------------------------------------------------------------------
// A transport that tells the test what reached the handler, on which connection.

interface Call {
  path: string;
  /** The client's port: which raw connection it came on. */
  from: number;
  socket: Socket;
}

class SpyTransport extends HttpTransport {
  readonly calls: Call[] = [];
  /** Called with each request before the handler runs. */
  watch: ((call: Call) => void) | null = null;

  override listen(handler: RequestHandler, opts: ListenOptions): Promise<number> {
    return super.listen((req) => {
      const socket = req.connection as Socket;
      const call = { path: req.path, from: socket.remotePort ?? -1, socket };
      this.calls.push(call);
      this.watch?.(call);
      return handler(req);
    }, opts);
  }

  /** The requests that reached the handler on `c`'s connection. */
  from(c: Raw): Call[] {
    return this.calls.filter((call) => call.from === c.localPort);
  }
}

// ---------------------------------------------------------------------------

describe('HTTP framing attacks on a live node (default limits)', () => {
  const net = new TestNet();
  const spy = new SpyTransport({ maxResponseBytes: DEFAULT_LIMITS.maxBodyBytes });
  const nodes: DSNodeServer[] = [];
  const ids = ['a', 'b'];
  const disconnects: string[] = [];
  const clients: Raw[] = [];
  let a: DSNodeServer;
  let round = 0;
  /** A PING as a peer sends it: the node answers it (204, an empty payload) from anyone. */
  let ping: Uint8Array;

  const open = async () => {
    const c = await Raw.open(a.port);
    clients.push(c);
    return c;
  };

  /** Every node writes a new value; resolves once each holds the other's. */
  async function converge(): Promise<void> {
    const tag = `r${++round}`;
    await Promise.all(nodes.map((n) => n.updateData('round', `${tag}:${n.nodeId()}`)));
    await until(
      nodes,
      () =>
        allSee(nodes, ids) &&
        nodes.every((n) => ids.every((o) => n.readData(o, 'round') === `${tag}:${o}`)),
      `every node sees every value of ${tag}`,
      { timeoutMs: 30_000 },
    );
  }

  /** A legitimate PING on a fresh connection is answered (204) and reaches the handler. */
  async function stillServes(): Promise<void> {
    const c = await open();
    c.write(post('/ping', ping));
    const [r] = await c.answer(1);
    assert.equal(status(r), 204, c.seen);
    assert.equal(spy.from(c).length, 1);
    c.destroy();
  }

  before(async () => {
    a = await net.start('a', { timing: DEFAULT_TIMING, transport: spy });
    const b = await net.start('b', { timing: DEFAULT_TIMING, via: a });
    nodes.push(a, b);
    for (const n of nodes) n.on('disconnect', (id) => disconnects.push(`${n.nodeId()} lost ${id}`));
    ping = new Forger('anyone', net.key).seal(MsgType.PING, PING_PAYLOAD);
    await converge();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await net.stopAll();
  });

  // 1. Request smuggling -----------------------------------------------------

  describe('smuggling: a 4xx, the connection closed, the request hidden inside never run', () => {
    /** Would be answered (204) were it ever read as a request of its own. */
    const smuggled = () => post('/ping', ping);
    const cases: [string, () => Buffer, number][] = [
      [
        'Content-Length and Transfer-Encoding: chunked',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n',
            'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
            smuggled(),
          ),
        400,
      ],
      [
        'Transfer-Encoding: chunked, then Content-Length',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n',
            `Content-Length: ${5 + smuggled().length}\r\n\r\n0\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'two Content-Length fields that disagree',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n',
            `Content-Length: ${smuggled().length}\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'one Content-Length field with two values',
        () =>
          bytes(
            `POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0, ${smuggled().length}\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'Transfer-Encoding: chunked, identity',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
            '0\r\n\r\n',
            smuggled(),
          ),
        400,
      ],
      [
        'Transfer-Encoding: chunked in two fields (chunked twice)',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n',
            'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
            smuggled(),
          ),
        501,
      ],
      [
        'a space before the colon of Transfer-Encoding',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n',
            `Content-Length: ${5 + smuggled().length}\r\n\r\n0\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'a chunk size of 9 hex digits (value 5)',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
            '000000005\r\nhello\r\n0\r\n\r\n',
            smuggled(),
          ),
        400,
      ],
      [
        'a chunk size that is 5 once it overflows 64 bits',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
            '10000000000000005\r\nhello\r\n0\r\n\r\n',
            smuggled(),
          ),
        400,
      ],
      [
        'a chunk longer than its size',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
            '3\r\nhello\r\n0\r\n\r\n',
            smuggled(),
          ),
        400,
      ],
      [
        'a negative Content-Length',
        () => bytes('POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', smuggled()),
        400,
      ],
      [
        'a Content-Length with a plus sign',
        () =>
          bytes(
            `POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: +${smuggled().length}\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'two spaces between method and target',
        () => bytes('POST  /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', smuggled()),
        400,
      ],
      [
        'two spaces between target and version',
        () => bytes('POST /ping  HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', smuggled()),
        400,
      ],
      [
        'an obs-fold line that would hide a Content-Length',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n',
            ` Content-Length: ${smuggled().length}\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
      [
        'an obs-fold line continued with a tab',
        () =>
          bytes(
            'POST /ping HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n\tb\r\n',
            `Content-Length: ${smuggled().length}\r\n\r\n`,
            smuggled(),
          ),
        400,
      ],
    ];

    for (const [name, request, expected] of cases) {
      it(`${name} → ${expected}`, T, async () => {
        const peersBefore = a.peers();
        const c = await open();
        c.write(request());
        const [r] = await c.answer(1);
        assert.equal(status(r), expected, c.seen);
        assert.equal(header(r, 'connection'), 'close');
        await c.closed; // closed by the server: the test never closes it
        assert.equal(c.answers.length, 1, `nothing after the refusal: ${c.seen}`);
        assert.equal(c.garbage, null);
        assert.deepEqual(spy.from(c), [], 'neither request reached the handler');
        assert.deepEqual(a.peers(), peersBefore);
        await stillServes();
      });
    }

    it(
      'a GET whose body is a request: 405, the body skipped, the request in it never run',
      T,
      async () => {
        const c = await open();
        const hidden = smuggled();
        c.write(
          bytes(
            `GET /ping HTTP/1.1\r\nHost: x\r\nContent-Length: ${hidden.length}\r\n\r\n`,
            hidden,
          ),
        );
        const [r] = await c.answer(1);
        assert.equal(status(r), 405);
        assert.deepEqual(spy.from(c), []);
        // The connection is kept, in step: the next request is read where it starts.
        c.write(post('/ping', ping));
        const [, next] = await c.answer(2);
        assert.equal(status(next), 204);
        assert.equal(spy.from(c).length, 1);
        assert.equal(c.isClosed, false);
        c.destroy();
      },
    );

    it('the network still converges after the smuggling attempts', T, async () => {
      await converge();
    });
  });

  // 2. Pipelining flood -------------------------------------------------------

  it(
    'a client pipelining 100,000 pings without reading: the server stops reading it, serves others meanwhile, then answers every one',
    T,
    async () => {
      const N = 100_000;
      const flooder = await open();
      flooder.socket.pause(); // reads nothing until told
      let handled = 0;
      let maxUnsent = 0;
      let server: Socket | null = null;
      let onPause: () => void = () => {};
      let noPause: (e: Error) => void = () => {};
      const paused = new Promise<void>((resolve, reject) => {
        onPause = resolve;
        noPause = reject;
      });
      spy.watch = (call) => {
        if (call.from !== flooder.localPort) return;
        handled++;
        if (!server) {
          server = call.socket;
          server.once('pause', () => onPause());
        }
        maxUnsent = Math.max(maxUnsent, call.socket.writableLength);
        if (handled === N) noPause(new Error(`all ${N} handled without the server pausing`));
      };
      try {
        // About 8 MB of requests whose answers (about 15 MB) no kernel buffer holds.
        flooder.write(Buffer.concat(Array.from({ length: N }, () => post('/ping', ping))));
        await paused;
        // Meanwhile: others are served, and the network converges.
        await stillServes();
        await converge();
        const stalledAt = handled;
        assert.ok(stalledAt < N, `the server stopped reading (${stalledAt} of ${N} handled)`);
        // What the server holds for the flooder is bounded: about 1 MiB plus
        // the answers to one read's worth of requests, not all of them.
        assert.ok(
          maxUnsent <= MAX_UNSENT + 256 * 1024,
          `unsent answers peaked at ${maxUnsent} bytes`,
        );
        // The flooder reads at last: every request is answered, in order.
        flooder.socket.resume();
        await flooder.until(() => flooder.answers.length >= N, `${N} answers`);
        assert.equal(flooder.answers.length, N);
        assert.ok(flooder.answers.every((m) => status(m) === 204));
        assert.equal(handled, N);
        assert.equal(flooder.isClosed, false, 'the connection is still open');
        console.log(
          `pipelining flood: server paused after ${stalledAt} of ${N} requests; ` +
            `unsent answers peaked at ${maxUnsent} bytes`,
        );
      } finally {
        spy.watch = null;
        flooder.destroy();
      }
      await stillServes();
      await converge();
    },
  );

  // 3. (Live node part) ------------------------------------------------------

  it('a PING sent as one-byte chunks is answered 204', T, async () => {
    const c = await open();
    const chunks = [...ping].map((byte) => bytes('1\r\n', Uint8Array.of(byte), '\r\n'));
    c.write(
      bytes(
        'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
        ...chunks,
        '0\r\n\r\n',
      ),
    );
    const [r] = await c.answer(1);
    assert.equal(status(r), 204, c.seen);
    assert.equal(spy.from(c).length, 1);
    c.destroy();
  });

  // 7. Connection handling and 100-continue ---------------------------------

  // (Built when a test runs: `ping` is sealed in before().)
  const closers: [string, () => Buffer][] = [
    [
      'HTTP/1.0 without keep-alive: answered, then closed; a request pipelined after it is not run',
      () => bytes(post('/ping', ping, '', 'HTTP/1.0'), post('/ping', ping, '', 'HTTP/1.0')),
    ],
    [
      '"Connection: close" in HTTP/1.1: answered, then closed; nothing after it is run',
      () => bytes(post('/ping', ping, 'Connection: close\r\n'), post('/ping', ping)),
    ],
  ];
  for (const [name, wire] of closers) {
    it(name, T, async () => {
      const c = await open();
      c.write(wire());
      const [r] = await c.answer(1);
      assert.equal(status(r), 204);
      assert.equal(header(r, 'connection'), 'close');
      await c.closed;
      assert.equal(c.answers.length, 1);
      assert.equal(spy.from(c).length, 1);
      await stillServes();
    });
  }

  it(
    '"Expect: 100-continue" with a declared body over the limit: 413, no 100 Continue',
    T,
    async () => {
      const c = await open();
      c.write(
        'POST /update HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n' +
          `Content-Length: ${DEFAULT_LIMITS.maxBodyBytes + 1}\r\n\r\n`,
      );
      const [r] = await c.answer(1);
      assert.equal(status(r), 413);
      assert.equal(header(r, 'connection'), 'close');
      await c.closed;
      assert.ok(!c.seen.includes('100 Continue'), c.seen);
      assert.equal(c.answers.length, 1);
      assert.deepEqual(spy.from(c), []);
      await stillServes();
    },
  );

  it(
    '"Expect: 100-continue" with an acceptable body: 100 first, 204 once the body is sent',
    T,
    async () => {
      const c = await open();
      c.write(
        `POST /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${ping.length}\r\n\r\n`,
      );
      const [interim] = await c.answer(1);
      assert.equal(status(interim), 100);
      assert.deepEqual(spy.from(c), [], 'nothing ran before the body came');
      c.write(ping);
      const [, final] = await c.answer(2);
      assert.equal(status(final), 204);
      assert.equal(spy.from(c).length, 1);
      c.destroy();
    },
  );

  it('a request left unfinished behind a Hello (answered asynchronously) is cut off with 408', {
    timeout: 12_000,
  }, async () => {
    // A node of its own: no timer for partial requests is running there (on
    // a node that has just seen one, that timer would catch this one too).
    const lone = await net.start('lone', { timing: DEFAULT_TIMING });
    // Any Hello that decrypts is answered after an await, whatever it holds:
    // a replayed capture does it without the key; this one is sealed with it.
    const hello = new Forger('x', net.key).seal(MsgType.HELLO, Buffer.from('not a hello'));
    const c = await Raw.open(lone.port);
    clients.push(c);
    c.write(bytes(post('/hello', hello), 'POST /ping HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    const [first] = await c.answer(1);
    assert.equal(status(first), 401);
    await c.closed; // by the server, after the default 5 s head timeout: the test never closes it
    assert.deepEqual(c.answers.map(status), [401, 408]);
    const d = await Raw.open(lone.port);
    clients.push(d);
    d.write(post('/ping', ping));
    assert.equal(status((await d.answer(1))[0]), 204);
    await lone.stop();
  });

  it('no node was ever dropped, and the network converges', T, async () => {
    await converge();
    assert.deepEqual(disconnects, []);
  });
});

// ---------------------------------------------------------------------------

describe('HTTP framing attacks on a bare HttpTransport', () => {
  const transports: HttpTransport[] = [];
  const clients: Raw[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    for (const t of transports) await t.close();
  });

  /** A transport answering 200 with `path:body`, unless `handler` says otherwise. */
  async function serve(
    options: ConstructorParameters<typeof HttpTransport>[0] = {},
    handler?: (req: IncomingRequest) => Promise<Response> | Response | undefined,
  ) {
    const t = new HttpTransport(options);
    transports.push(t);
    const seen: IncomingRequest[] = [];
    const port = await t.listen(
      (req) => {
        seen.push(req);
        return (
          handler?.(req) ?? {
            status: 200,
            body: Buffer.concat([Buffer.from(`${req.path}:`), Buffer.from(req.body)]),
          }
        );
      },
      { host: LOCAL, port: 0, maxBodyBytes: 64 * 1024 },
    );
    const open = async () => {
      const c = await Raw.open(port);
      clients.push(c);
      return c;
    };
    /** A POST on a fresh connection is answered with its echo. */
    const stillServes = async () => {
      const c = await open();
      c.write(post('/fine', 'still here'));
      const [r] = await c.answer(1);
      assert.equal(status(r), 200);
      assert.equal(Buffer.from(r?.body ?? []).toString(), '/fine:still here');
      c.destroy();
    };
    return { t, port, seen, open, stillServes };
  }

  // 3. Absurd chunking -------------------------------------------------------

  it('10,000 one-byte chunks: the body arrives intact', T, async () => {
    const s = await serve();
    const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919 + 13) % 256));
    const c = await s.open();
    c.write('POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (const byte of body) c.write(bytes('1\r\n', Uint8Array.of(byte), '\r\n'));
    c.write('0\r\n\r\n');
    const [r] = await c.answer(1);
    assert.equal(status(r), 200, c.seen);
    assert.equal(s.seen.length, 1);
    assert.deepEqual(Buffer.from(s.seen[0]?.body ?? []), body);
    assert.deepEqual(Buffer.from(r?.body ?? []), Buffer.concat([Buffer.from('/chunks:'), body]));
    // The connection is still in step.
    c.write(post('/after', 'x'));
    const [, next] = await c.answer(2);
    assert.equal(Buffer.from(next?.body ?? []).toString(), '/after:x');
    await s.stillServes();
  });

  // 4. Slow requests ----------------------------------------------------------

  it(
    'requests trickled a byte at a time that never complete are cut off with 408 and closed',
    T,
    async () => {
      const s = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
      /** Writes `first`, then one byte of `drip` at a time, until the server closes. */
      const trickle = async (first: string, drip: string) => {
        const c = await s.open();
        c.write(first);
        let i = 0;
        const timer = setInterval(() => c.write(drip[i++ % drip.length] as string), 20);
        void c.closed.then(() => clearInterval(timer));
        return c;
      };
      const slow = {
        body: await trickle('POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n', 'b'),
        chunked: await trickle(
          'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
          '1\r\nc\r\n',
        ),
        head: await trickle('POST /t HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'h'),
        'empty lines': await trickle('', '\r\n'),
      };
      for (const [what, c] of Object.entries(slow)) {
        await c.closed; // the server closes it: the test never does
        assert.equal(c.answers.length, 1, `${what}: ${c.seen}`);
        assert.equal(status(c.answers[0]), 408, `${what}: ${c.seen}`);
        assert.equal(header(c.answers[0], 'connection'), 'close');
      }
      assert.equal(s.seen.length, 0, 'no trickled request reached the handler');
      await s.stillServes();
    },
  );

  // 5. Too many connections ---------------------------------------------------

  it(
    'connections beyond maxConnections are closed at once; a freed slot serves a new one',
    T,
    async () => {
      const s = await serve({ maxConnections: 5 });
      const held: Raw[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await s.open();
        c.write(post('/held', `${i}`));
        assert.equal(status((await c.answer(1))[0]), 200); // accepted and counted
        held.push(c);
      }
      const refused = async (n: number) => {
        const extra = await Promise.all(Array.from({ length: n }, () => s.open()));
        for (const c of extra) c.write(post('/extra', 'x'));
        await Promise.all(extra.map((c) => c.closed));
        for (const c of extra) assert.equal(c.answers.length, 0, c.seen);
      };
      await refused(20);
      assert.ok(s.seen.every((r) => r.path === '/held'));
      // One held connection goes: once the server has seen it close, a new one is served.
      const gone = held.shift() as Raw;
      const serverSide = s.seen.find((r) => Buffer.from(r.body).toString() === '0')
        ?.connection as Socket;
      const serverClosed = closeOf(serverSide);
      gone.destroy();
      await serverClosed;
      const fresh = await s.open();
      fresh.write(post('/fresh', 'y'));
      const [r] = await fresh.answer(1);
      assert.equal(status(r), 200);
      // The limit holds again with the new one counted.
      await refused(3);
      assert.equal(s.seen.filter((r) => r.path === '/extra').length, 0);
      for (const c of held) {
        c.write(post('/again', 'z'));
        assert.equal(status((await c.answer(2))[1]), 200, 'the held connections still work');
      }
    },
  );

  // 2. (Bare transport part) -------------------------------------------------

  it(
    'requests pipelined behind a slow one: the server stops reading ahead, serves others, then answers all in order',
    T,
    async () => {
      const N = 100_000;
      const gate = deferred();
      const paused = deferred();
      let server: Socket | null = null;
      const s = await serve({}, (req) => {
        if (req.path !== '/slow') return undefined;
        server = req.connection as Socket;
        server.once('pause', () => paused.resolve());
        return gate.promise.then(() => ({ status: 200, body: Buffer.from('slow') }));
      });
      const c = await s.open();
      const queued = Buffer.concat(Array.from({ length: N }, (_, i) => post('/q', `${i}`)));
      c.write(bytes(post('/slow', 's'), queued));
      await paused.promise; // about 256 KiB read ahead while /slow is answered
      await s.stillServes(); // others are served meanwhile
      const read = (server as Socket | null)?.bytesRead ?? 0;
      assert.ok(
        read < 1024 * 1024,
        `${read} of ${queued.length} bytes read behind the slow request`,
      );
      assert.equal(s.seen.filter((r) => r.path === '/q').length, 0, 'nothing ran out of order');
      gate.resolve();
      const answers = await c.answer(N + 1);
      assert.equal(Buffer.from(answers[0]?.body ?? []).toString(), 'slow');
      const wrong = answers.slice(1).filter((m, i) => Buffer.from(m.body).toString() !== `/q:${i}`);
      assert.equal(wrong.length, 0, 'every queued request answered, in order');
      c.destroy();
    },
  );

  // 6. Resets while the handler runs ----------------------------------------

  it(
    'a client that resets while its request is being handled: no crash, later requests work',
    T,
    async () => {
      /** Each slow request waits for the test to release it; `fail` makes it reject then. */
      const held = new Map<string, { entered: Deferred; release: Deferred; fail: boolean }>();
      const slot = (path: string, fail = false) => {
        const h = { entered: deferred(), release: deferred(), fail };
        held.set(path, h);
        return h;
      };
      const hangups: string[] = [];
      const s = await serve({}, (req) => {
        const h = held.get(req.path);
        if (!h) return undefined;
        req.onHangup?.(() => hangups.push(req.path));
        h.entered.resolve();
        return h.release.promise.then(() => {
          if (h.fail) throw new Error('the handler fails after the reset');
          return { status: 200, body: Buffer.from('late') };
        });
      });
      const serverSideOf = (path: string) => {
        const socket = s.seen.find((r) => r.path === path)?.connection as Socket;
        return closeOf(socket);
      };
      const served = () => s.seen.length;

      // A slow handler answers after its client has reset the connection.
      const first = slot('/slow');
      const c = await s.open();
      c.write(post('/slow', 'a'));
      await first.entered.promise;
      const closed = serverSideOf('/slow');
      c.socket.resetAndDestroy();
      await closed;
      assert.deepEqual(hangups, ['/slow'], 'the handler heard the hangup');
      first.release.resolve();
      await s.stillServes();

      // A slow handler rejects after the reset, with a request pipelined behind it.
      const second = slot('/slow-fail', true);
      const d = await s.open();
      d.write(bytes(post('/slow-fail', 'b'), post('/behind', 'c')));
      await second.entered.promise;
      const dClosed = serverSideOf('/slow-fail');
      d.socket.resetAndDestroy();
      await dClosed;
      const before = served();
      second.release.resolve();
      await s.stillServes();
      assert.equal(d.answers.length, 0);
      assert.deepEqual(hangups, ['/slow', '/slow-fail']);
      console.log(
        `reset: a request pipelined behind the reset one ${
          s.seen.slice(before).some((r) => r.path === '/behind') ? 'was' : 'was not'
        } still handled`,
      );
    },
  );

  // Found by these tests ---------------------------------------------------

  it('a request left unfinished behind one answered asynchronously is cut off with 408', {
    timeout: 6_000,
  }, async () => {
    const s = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400 }, (req) =>
      req.path === '/async'
        ? Promise.resolve({ status: 200, body: Buffer.from('later') })
        : undefined,
    );
    const c = await s.open();
    c.write(bytes(post('/async', 'a'), 'POST /t HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    await c.closed; // the server closes it: the test never does
    assert.deepEqual(c.answers.map(status), [200, 408], c.seen);
    await s.stillServes();
  });

  it('a client pipelining without reading costs the server one drain listener, not one per answer', {
    ...T,
  }, async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    let server: Socket | null = null;
    const paused = deferred();
    const s = await serve({}, (req) => {
      if (!server) {
        server = req.connection as Socket;
        server.once('pause', () => paused.resolve());
      }
      return undefined;
    });
    process.on('warning', onWarning);
    const flooder = await s.open();
    flooder.socket.pause();
    try {
      flooder.write(
        Buffer.concat(Array.from({ length: 100_000 }, () => post('/p', 'x'.repeat(32)))),
      );
      await paused.promise;
      await s.stillServes(); // by now the read that paused it is fully handled
      const listeners = (server as Socket | null)?.listenerCount('drain') ?? 0;
      assert.ok(listeners <= 1, `${listeners} 'drain' listeners on one paused connection`);
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
      flooder.destroy();
    }
  });
  it('a client that never reads its answers is cut off after the request timeout', T, async () => {
    const first = deferred();
    let server: Socket | null = null;
    const s = await serve({ requestTimeoutMs: 300 }, (req) => {
      if (!server) {
        server = req.connection as Socket;
        first.resolve();
      }
      return undefined;
    });
    const flooder = await s.open();
    flooder.socket.pause(); // reads nothing, ever
    flooder.write(Buffer.concat(Array.from({ length: 100_000 }, () => post('/p', 'x'.repeat(32)))));
    await first.promise;
    const socket = server as unknown as Socket;
    // The server stops reading once 1 MiB of answers wait, then gives up on
    // the client: its side of the connection closes (the only clock here is
    // the test's timeout).
    await once(socket, 'close');
    assert.ok(socket.destroyed);
    flooder.destroy();
    await s.stillServes();
  });
});
