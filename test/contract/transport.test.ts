import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DsnError, PeerError } from '../../src/errors.js';
import { failureOf } from '../../src/node/peer-table.js';
import { HttpTransport } from '../../src/transport/http.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import type {
  IncomingRequest,
  ListenOptions,
  RequestHandler,
  Response,
  Transport,
} from '../../src/transport/types.js';
import type { Body, BodySink, ChunkedBody } from '../../src/wire/body.js';

/**
 * The transport contract: what the node relies on from a Transport
 * (src/transport/types.ts), one suite run against every implementation.
 * Where an implementation legitimately differs, the factory says so with a
 * capability flag and the case asserts the behaviour of each side of it;
 * nothing is skipped silently. No sleeps: every case awaits the event it
 * is about, with a generous bound so that a missing event fails instead of
 * hanging.
 */

/** What an implementation can do beyond the common contract. */
interface Capabilities {
  /**
   * listen()'s `sink` is given bodies of a declared length as they arrive
   * (HTTP). Without it the transport always buffers and ignores `sink`.
   */
  sink: boolean;
  /**
   * Real connections: consecutive requests share one keep-alive connection
   * (counted in stats.connectionsOpened) and `preconnect` opens one ahead.
   * Without it connectionsOpened stays 0 and there is no preconnect.
   */
  connections: boolean;
  /**
   * A client that says it is of another implementation (HTTP: another
   * User-Agent), or null where every peer is of this one (memory).
   */
  foreignClient: (() => Transport) | null;
  /**
   * A request where nothing listens rejects before the event loop turns
   * (memory: no network in between); otherwise it only has to be quick.
   */
  refusedAtOnce: boolean;
}

interface Pair {
  server: Transport;
  client: Transport;
  /** The host the server listens on and is reached at. */
  host: string;
  /** The host the client side listens on (for its own onHangup). */
  clientHost: string;
  /** The remoteAddress the server sees on requests from `client`. */
  clientAddress: string;
  /** Another client of this implementation on the same network. */
  another(): Transport;
  /** Another transport that would listen at `host` (the server's address). */
  rival(): Transport;
  /** A port at `host` where nothing listens. */
  deadPort(): Promise<number>;
  caps: Capabilities;
  /** Closes every transport the pair made. */
  close(): Promise<void>;
}

type MakePair = () => Pair;

/**
 * Cases an implementation is known to fail because the implementation (not
 * the contract) is wrong, by case id, with what is wrong. They run as
 * `todo`: reported in the output with the reason, without failing the run;
 * once the implementation is fixed the case passes and the entry goes.
 */
type KnownBugs = Partial<Record<string, string>>;

const LIMIT = 64 * 1024;
const T = { timeout: 20_000 };
/** Generous bound on anything that should happen "quickly". */
const QUICK_MS = 5_000;
/** Bound on a 200 ms timeout or an abort taking effect (ten times over). */
const SLOW_MS = 2_000;

function listenOpts(host: string, extra: Partial<ListenOptions> = {}): ListenOptions {
  return { host, port: 0, maxBodyBytes: LIMIT, ...extra };
}

const ok = (body: Uint8Array | string = ''): Response => ({
  status: 200,
  body: typeof body === 'string' ? Buffer.from(body) : body,
});

/** Deterministic bytes covering every byte value. */
function bytes(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 255;
  return b;
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.ok(actual instanceof Uint8Array, `${what}: a Uint8Array`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  assert.ok(a.equals(expected), `${what}: bytes differ`);
}

function text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** A ChunkedBody over `parts`, counting how often it was read. */
function chunked(parts: Uint8Array[]): ChunkedBody & { reads: number } {
  const body = {
    length: parts.reduce((n, p) => n + p.length, 0),
    reads: 0,
    *chunks(): Iterable<Uint8Array> {
      body.reads++;
      yield* parts;
    },
  };
  return body;
}

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** `p`, or a failure naming `what` if it has not settled after `ms`. */
async function within<T>(p: Promise<T>, what: string, ms = QUICK_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of `p` (fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: resolved, expected a rejection`);
}

/** One turn of the event loop: whatever was queued by then has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function contract(name: string, makePair: MakePair, known: KnownBugs = {}): void {
  /** Test options: a case known to fail here runs as todo, with the reason. */
  const opts = (id: string) => (known[id] ? { ...T, todo: known[id] } : T);

  describe(`transport contract: ${name}`, () => {
    let p: Pair;
    beforeEach(() => {
      p = makePair();
    });
    afterEach(async () => {
      await p.close();
    });

    const send = (
      from: Transport,
      port: number,
      path: string,
      body: Body,
      extra: { timeoutMs?: number; signal?: AbortSignal } = {},
    ) => from.request(p.host, port, path, body, { timeoutMs: 10_000, ...extra });

    const serve = (handler: RequestHandler, extra: Partial<ListenOptions> = {}) =>
      p.server.listen(handler, listenOpts(p.host, extra));

    it(
      'listen resolves the bound port: port 0 a real one, an explicit one itself',
      opts('listen'),
      async () => {
        const port = await serve(() => ok('hi'));
        assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `bound port ${port}`);
        const res = await send(p.client, port, '/x', Buffer.from('a'));
        assert.equal(res.status, 200);
        if (p.caps.connections) {
          // A real port: a plain TCP connect there succeeds.
          const s = connect({ host: p.host, port });
          await within(once(s, 'connect'), 'TCP connect to the bound port');
          s.destroy();
        }
        // An explicit port is bound as asked.
        const free = await p.deadPort();
        const other = p.rival();
        assert.equal(await other.listen(() => ok(), listenOpts(p.host, { port: free })), free);
        // And a port in use is refused with a DsnError, not bound twice.
        const third = p.rival();
        const err = await rejection(
          third.listen(() => ok(), listenOpts(p.host, { port: free })),
          'listen on a port in use',
        );
        assert.ok(err instanceof DsnError, `a DsnError, got ${String(err)}`);
      },
    );

    it(
      'a request reaches the handler with path, body, remoteAddress and a stable connection',
      opts('request'),
      async () => {
        const seen: IncomingRequest[] = [];
        const port = await serve((req) => {
          seen.push(req);
          return ok();
        });
        const body = bytes(1000, 1);
        await send(p.client, port, '/hello', body);
        await send(p.client, port, '/ping', Buffer.from([0]));
        const other = p.another();
        await send(other, port, '/ping', Buffer.from([1]));
        assert.equal(seen.length, 3);
        const [a, b, c] = seen as [IncomingRequest, IncomingRequest, IncomingRequest];
        assert.equal(a.path, '/hello');
        sameBytes(a.body, body, 'request body');
        assert.equal(a.streamed, undefined, 'buffered when no sink is given');
        assert.equal(a.remoteAddress, p.clientAddress);
        assert.equal(b.path, '/ping');
        sameBytes(b.body, Buffer.from([0]), 'second body');
        assert.ok(a.connection && typeof a.connection === 'object', 'a connection identity');
        assert.equal(b.connection, a.connection, 'consecutive requests: the same connection');
        assert.ok(c.connection && c.connection !== a.connection, 'another client: another one');
        assert.equal(typeof a.onHangup, 'function');
      },
    );

    it("the handler's status and body come back byte for byte", opts('answers'), async () => {
      const big = bytes(200 * 1024, 2);
      const port = await serve((req) => {
        switch (req.path) {
          case '/ok':
            return ok(bytes(256, 3));
          case '/big':
            return ok(big);
          case '/echo':
            return ok(req.body);
          case '/none':
            return { status: 204, body: new Uint8Array(0) };
          case '/401':
            return { status: 401, body: Buffer.from('unknown sender') };
          default:
            return { status: 500, body: Buffer.from('broken: ünïcödé') };
        }
      });
      const r200 = await send(p.client, port, '/ok', Buffer.from('x'));
      assert.equal(r200.status, 200);
      sameBytes(r200.body, bytes(256, 3), '200 body');
      const rBig = await send(p.client, port, '/big', Buffer.from('x'));
      sameBytes(rBig.body, big, '200 KiB body');
      const echo = bytes(LIMIT, 4);
      sameBytes((await send(p.client, port, '/echo', echo)).body, echo, 'echoed body');
      const r204 = await send(p.client, port, '/none', Buffer.from('x'));
      assert.equal(r204.status, 204);
      assert.equal(r204.body.length, 0);
      const r401 = await send(p.client, port, '/401', Buffer.from('x'));
      assert.equal(r401.status, 401);
      assert.equal(text(r401.body), 'unknown sender');
      const r500 = await send(p.client, port, '/500', Buffer.from('x'));
      assert.equal(r500.status, 500);
      assert.equal(text(r500.body), 'broken: ünïcödé');
      // An empty request body arrives empty.
      sameBytes(
        (await send(p.client, port, '/echo', new Uint8Array(0))).body,
        new Uint8Array(0),
        'empty echo',
      );
    });

    it(
      'a handler that throws or rejects gives 500, and the server keeps serving',
      opts('handler-error'),
      async () => {
        const port = await serve(async (req) => {
          if (req.path === '/reject') throw new Error('async failure');
          return ok('fine');
        });
        // (A synchronous throw needs a handler that is not async.)
        const port2 = await p.rival().listen((req) => {
          if (req.path === '/throw') throw new Error('sync failure');
          return ok('fine');
        }, listenOpts(p.host));
        const r1 = await send(p.client, port, '/reject', Buffer.from('x'));
        assert.equal(r1.status, 500);
        const r2 = await send(p.client, port2, '/throw', Buffer.from('x'));
        assert.equal(r2.status, 500);
        // The error stays on the server: its words are not sent.
        assert.doesNotMatch(text(r1.body), /async failure/);
        assert.doesNotMatch(text(r2.body), /sync failure/);
        for (const [at, what] of [
          [port, 'after a rejection'],
          [port2, 'after a throw'],
        ] as const) {
          const r = await send(p.client, at, '/fine', Buffer.from('x'));
          assert.equal(r.status, 200, what);
          assert.equal(text(r.body), 'fine', what);
        }
      },
    );

    it('a ChunkedBody arrives as the concatenation of its chunks', opts('chunked'), async () => {
      const got: Uint8Array[] = [];
      const port = await serve(
        (req) => {
          got.push(req.body);
          return ok(String(req.body.length));
        },
        { maxBodyBytes: 1024 * 1024 },
      );
      const small = [Buffer.from('ab'), new Uint8Array(0), Buffer.from('cde'), bytes(10, 5)];
      const r1 = await send(p.client, port, '/data', chunked(small));
      assert.equal(r1.status, 200);
      sameBytes(got[0] as Uint8Array, Buffer.concat(small), 'small chunked body');
      // Big enough to need many socket writes (HTTP writes chunks as the socket drains).
      const parts = [
        bytes(1, 6),
        bytes(70_000, 7),
        bytes(300_000, 8),
        bytes(33, 9),
        bytes(128 * 1024, 10),
      ];
      const body = chunked(parts);
      const r2 = await send(p.client, port, '/data', body);
      assert.equal(text(r2.body), String(body.length));
      sameBytes(got[1] as Uint8Array, Buffer.concat(parts), 'big chunked body');
    });

    it('a body over maxBodyBytes gets 413 and the handler is not called', opts('413'), async () => {
      const paths: string[] = [];
      const port = await serve((req) => {
        paths.push(req.path);
        return ok();
      });
      const at = await send(p.client, port, '/at', bytes(LIMIT));
      assert.equal(at.status, 200, 'exactly the limit is allowed');
      const over = await send(p.client, port, '/over', bytes(LIMIT + 1));
      assert.equal(over.status, 413);
      const far = await send(p.client, port, '/far', bytes(4 * LIMIT));
      assert.equal(far.status, 413);
      const chunk = await send(p.client, port, '/chunked', chunked([bytes(LIMIT), bytes(1)]));
      assert.equal(chunk.status, 413, 'a chunked body over the limit too');
      assert.deepEqual(paths, ['/at'], 'the handler saw only the allowed body');
      // And the server keeps serving.
      assert.equal((await send(p.client, port, '/after', Buffer.from('x'))).status, 200);
    });

    it('bodyLimit(path) overrides maxBodyBytes per path', opts('bodyLimit'), async () => {
      const paths: string[] = [];
      const port = await serve(
        (req) => {
          paths.push(req.path);
          return ok(String(req.body.length));
        },
        {
          bodyLimit: (path) => (path === '/small' ? 100 : path === '/large' ? 1024 * 1024 : LIMIT),
        },
      );
      const status = async (path: string, n: number) =>
        (await send(p.client, port, path, bytes(n))).status;
      assert.equal(await status('/small', 100), 200);
      assert.equal(await status('/small', 101), 413);
      assert.equal(
        await status('/large', 512 * 1024),
        200,
        'above maxBodyBytes, under its own limit',
      );
      assert.equal(await status('/large', 1024 * 1024 + 1), 413);
      assert.equal(await status('/other', LIMIT), 200);
      assert.equal(await status('/other', LIMIT + 1), 413);
      assert.deepEqual(paths, ['/small', '/large', '/other']);
    });

    it(
      'sink: a streaming transport (caps.sink) hands declared bodies to it, any other ignores it and buffers',
      opts('sink'),
      async () => {
        const asked: string[] = [];
        const seen: IncomingRequest[] = [];
        const sink = (path: string, length: number): BodySink | null => {
          asked.push(`${path}:${length}`);
          if (path === '/plain') return null;
          const parts: Uint8Array[] = [];
          return {
            push: (c) => parts.push(Uint8Array.from(c)),
            finish: () => {
              if (path === '/refuse') throw new Error('refused by the sink');
              return { sunk: Buffer.concat(parts) };
            },
          };
        };
        const port = await serve(
          (req) => {
            seen.push(req);
            return ok();
          },
          { sink, maxBodyBytes: 1024 * 1024 },
        );
        const big = bytes(300 * 1024, 11);
        await send(p.client, port, '/sunk', big);
        await send(p.client, port, '/plain', bytes(10, 12));
        await send(p.client, port, '/refuse', bytes(10, 13));
        await send(p.client, port, '/chunks', chunked([bytes(5, 14), bytes(70_000, 15)]));
        assert.equal(seen.length, 4);
        const [sunk, plain, refused, chunks] = seen as [
          IncomingRequest,
          IncomingRequest,
          IncomingRequest,
          IncomingRequest,
        ];
        sameBytes(plain.body, bytes(10, 12), 'a body the sink declined is buffered');
        assert.equal(plain.streamed, undefined);
        if (p.caps.sink) {
          assert.deepEqual(asked, ['/sunk:307200', '/plain:10', '/refuse:10', '/chunks:70005']);
          assert.equal(sunk.body.length, 0, 'the body went to the sink');
          assert.ok(sunk.streamed && 'value' in sunk.streamed, 'what the sink made');
          sameBytes((sunk.streamed.value as { sunk: Buffer }).sunk, big, 'sunk bytes');
          assert.ok(refused.streamed && 'error' in refused.streamed, 'what the sink threw');
          assert.match(String(refused.streamed.error), /refused by the sink/);
          assert.ok(chunks.streamed && 'value' in chunks.streamed);
          sameBytes(
            (chunks.streamed.value as { sunk: Buffer }).sunk,
            Buffer.concat([bytes(5, 14), bytes(70_000, 15)]),
            'sunk chunked body',
          );
        } else {
          assert.deepEqual(asked, [], 'the sink is never asked');
          for (const [r, b] of [
            [sunk, big],
            [refused, bytes(10, 13)],
            [chunks, Buffer.concat([bytes(5, 14), bytes(70_000, 15)])],
          ] as const) {
            assert.equal(r.streamed, undefined);
            sameBytes(r.body, b, `buffered ${r.path}`);
          }
        }
      },
    );

    it(
      'sameImplementation is true on requests and answers between two of its transports',
      opts('sameImplementation'),
      async () => {
        const seen: IncomingRequest[] = [];
        const port = await serve((req) => {
          seen.push(req);
          return { status: 204, body: new Uint8Array(0) };
        });
        const res = await send(p.client, port, '/ping', Buffer.from('x'));
        assert.equal(res.sameImplementation, true, 'on the answer');
        assert.equal(seen[0]?.sameImplementation, true, 'on the request');
        const foreign = p.caps.foreignClient;
        if (foreign) {
          await send(foreign(), port, '/ping', Buffer.from('x'));
          assert.equal(seen[1]?.sameImplementation, false, 'a foreign client is not');
        }
      },
    );

    it('a request where nothing listens rejects quickly, as refused', opts('refused'), async () => {
      const dead = await p.deadPort();
      const start = Date.now();
      const pending = send(p.client, dead, '/ping', Buffer.from('x'), { timeoutMs: 60_000 });
      let settled = false;
      pending.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      if (p.caps.refusedAtOnce) {
        await turn();
        assert.ok(settled, 'rejected before the event loop turned');
      }
      const err = await within(rejection(pending, 'request to a dead port'), 'refusal');
      assert.ok(Date.now() - start < QUICK_MS, 'long before its timeout');
      assert.ok(err instanceof PeerError, `a PeerError, got ${String(err)}`);
      assert.equal(err.code, 'DSN_ERR_PEER');
      assert.equal(err.status, undefined, 'no status: nothing answered');
      // The failure detector tells "no process there" from a slow peer by this.
      assert.equal(failureOf(err), 'refused', 'counted as refused by the failure detector');
    });

    it('a server that closed is refused too', opts('refused-after-close'), async () => {
      const port = await serve(() => ok());
      assert.equal((await send(p.client, port, '/x', Buffer.from('x'))).status, 200);
      await p.server.close();
      const err = await within(
        rejection(send(p.client, port, '/x', Buffer.from('x'), { timeoutMs: 60_000 }), 'request'),
        'refusal after close',
      );
      assert.ok(err instanceof PeerError, `a PeerError, got ${String(err)}`);
      assert.equal(failureOf(err), 'refused');
    });

    it(
      'a handler slower than timeoutMs: the request rejects with DSN_ERR_TIMEOUT',
      opts('timeout'),
      async () => {
        const release = deferred<Response>();
        const port = await serve(() => release.promise);
        const start = Date.now();
        let err: unknown;
        try {
          err = await within(
            rejection(send(p.client, port, '/slow', Buffer.from('x'), { timeoutMs: 200 }), 'slow'),
            'request timeout',
            SLOW_MS,
          );
        } finally {
          release.resolve(ok());
        }
        assert.ok(err instanceof PeerError, `a PeerError, got ${String(err)}`);
        assert.equal(err.code, 'DSN_ERR_TIMEOUT');
        assert.equal(err.status, undefined, 'no status: nothing answered');
        assert.equal(failureOf(err), 'timeout');
        assert.ok(Date.now() - start >= 150, 'not before its time');
      },
    );

    it(
      'aborting the signal rejects a request in flight with DSN_ERR_STOPPED',
      opts('abort'),
      async () => {
        const release = deferred<Response>();
        const arrived = deferred();
        const port = await serve(() => {
          arrived.resolve();
          return release.promise;
        });
        const ac = new AbortController();
        const pending = send(p.client, port, '/slow', Buffer.from('x'), {
          timeoutMs: 60_000,
          signal: ac.signal,
        });
        let err: unknown;
        try {
          await within(arrived.promise, 'request at the handler');
          ac.abort();
          err = await within(rejection(pending, 'aborted request'), 'abort', SLOW_MS);
        } finally {
          release.resolve(ok());
        }
        assert.ok(err instanceof DsnError, `a DsnError, got ${String(err)}`);
        assert.equal(err.code, 'DSN_ERR_STOPPED');
        // An already aborted signal: rejected without being sent.
        const err2 = await within(
          rejection(
            send(p.client, port, '/x', Buffer.from('x'), { signal: ac.signal }),
            'pre-aborted',
          ),
          'pre-aborted request',
        );
        assert.ok(err2 instanceof DsnError && err2.code === 'DSN_ERR_STOPPED', String(err2));
      },
    );

    it(
      "the client side's onHangup is told (address, port) when the server it talked to closes",
      opts('hangup'),
      async () => {
        const port = await serve(() => ok());
        const heard: string[] = [];
        const told = deferred();
        await p.client.listen(() => ok(), {
          ...listenOpts(p.clientHost),
          onHangup: (address, at) => {
            heard.push(`${address}:${at}`);
            told.resolve();
          },
        });
        // A second client that closes itself before the server goes: never told.
        const closedFirst = p.another();
        const notHeard: string[] = [];
        await closedFirst.listen(() => ok(), {
          ...listenOpts(p.clientHost),
          onHangup: (address, at) => notHeard.push(`${address}:${at}`),
        });
        assert.equal((await send(p.client, port, '/x', Buffer.from('x'))).status, 200);
        assert.equal((await send(closedFirst, port, '/x', Buffer.from('x'))).status, 200);
        await closedFirst.close();
        assert.deepEqual(heard, [], 'nothing before the server closes');
        await p.server.close();
        await within(told.promise, 'onHangup of the client');
        await turn();
        assert.ok(heard.length >= 1);
        for (const h of heard) assert.equal(h, `${p.host}:${port}`);
        assert.deepEqual(notHeard, [], 'a transport closed itself is not told');
      },
    );

    it(
      "the server side's req.onHangup hears the client transport close",
      opts('req-hangup'),
      async () => {
        const hooked = deferred<IncomingRequest>();
        const port = await serve((req) => {
          hooked.resolve(req);
          return ok();
        });
        await send(p.client, port, '/x', Buffer.from('x'));
        const req = await hooked.promise;
        const heard = deferred();
        let calls = 0;
        req.onHangup?.(() => {
          calls++;
          heard.resolve();
        });
        await p.client.close();
        await within(heard.promise, 'req.onHangup');
        await turn();
        assert.equal(calls, 1, 'once');
      },
    );

    it(
      'close() is idempotent, and a request after it rejects with DSN_ERR_STOPPED',
      opts('close'),
      async () => {
        const port = await serve(() => ok());
        assert.equal((await send(p.client, port, '/x', Buffer.from('x'))).status, 200);
        await Promise.all([p.client.close(), p.client.close()]);
        await p.client.close();
        const err = await within(
          rejection(send(p.client, port, '/x', Buffer.from('x')), 'request after close'),
          'request after close',
        );
        assert.ok(err instanceof DsnError, `a DsnError, got ${String(err)}`);
        assert.equal(err.code, 'DSN_ERR_STOPPED');
        await p.server.close();
        await p.server.close();
        // A transport that never listened closes too.
        await p.another().close();
      },
    );

    it('stats count requests sent and served, bytes and connections', opts('stats'), async () => {
      const port = await serve((req) => ok(req.body));
      const sizes = [1, 100, 5000, 0, 30_000];
      for (const n of sizes) await send(p.client, port, '/echo', bytes(n));
      await send(p.client, port, '/echo', chunked([bytes(7), bytes(9)]));
      const sent = sizes.reduce((a, b) => a + b, 0) + 16;
      assert.equal(p.client.stats.requestsSent, sizes.length + 1);
      assert.equal(p.server.stats.requestsServed, sizes.length + 1);
      assert.equal(p.client.stats.requestsServed, 0);
      assert.equal(p.server.stats.requestsSent, 0);
      assert.equal(p.client.stats.bytesSent, sent, 'bytesSent: the request bodies');
      assert.ok(p.client.stats.bytesReceived >= sent, 'bytesReceived: at least the answers');
      if (p.caps.connections) {
        assert.equal(
          p.client.stats.connectionsOpened,
          1,
          'sequential requests share a keep-alive connection',
        );
      } else {
        assert.equal(p.client.stats.connectionsOpened, 0);
      }
    });

    it(
      'preconnect: with connections (caps.connections) it opens the one the next request uses, else absent',
      opts('preconnect'),
      async () => {
        assert.equal(typeof p.client.preconnect === 'function', p.caps.connections);
        const port = await serve(() => ok());
        if (!p.client.preconnect) return;
        p.client.preconnect(p.host, port);
        p.client.preconnect(p.host, port);
        assert.equal(p.client.stats.connectionsOpened, 1, 'once per endpoint');
        assert.equal(p.client.stats.requestsSent, 0, 'nothing sent');
        assert.equal((await send(p.client, port, '/x', Buffer.from('x'))).status, 200);
        assert.equal(p.client.stats.connectionsOpened, 1, 'the request used it');
      },
    );
  });
}

// ---------------------------------------------------------------------------
// The implementations.

function memoryPair(): Pair {
  const network = new MemoryNetwork();
  const made: Transport[] = [];
  const make = (address: string) => {
    const t = network.transport(address);
    made.push(t);
    return t;
  };
  let next = 3;
  return {
    server: make('10.0.0.1'),
    client: make('10.0.0.2'),
    host: '10.0.0.1',
    clientHost: '10.0.0.2',
    clientAddress: '10.0.0.2',
    another: () => make(`10.0.0.${next++}`),
    rival: () => make('10.0.0.1'),
    // Ports are taken from 20000 up: a low one is never bound here.
    deadPort: async () => 9,
    caps: { sink: false, connections: false, foreignClient: null, refusedAtOnce: true },
    close: async () => {
      await Promise.all(made.map((t) => t.close()));
    },
  };
}

function httpPair(): Pair {
  const made: Transport[] = [];
  const make = (t: HttpTransport) => {
    made.push(t);
    return t;
  };
  return {
    server: make(new HttpTransport()),
    client: make(new HttpTransport()),
    host: '127.0.0.1',
    clientHost: '127.0.0.1',
    clientAddress: '127.0.0.1',
    another: () => make(new HttpTransport()),
    rival: () => make(new HttpTransport()),
    deadPort: async () => {
      // A port the kernel just gave out and that is free again.
      const s = createServer();
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      const port = (s.address() as AddressInfo).port;
      await new Promise<void>((resolve) => s.close(() => resolve()));
      return port;
    },
    caps: {
      sink: true,
      connections: true,
      foreignClient: () => make(new HttpTransport({ userAgent: 'python-requests/2.31' })),
      refusedAtOnce: false,
    },
    close: async () => {
      await Promise.all(made.map((t) => t.close()));
    },
  };
}

contract('memory', memoryPair);
contract('http', httpPair);
