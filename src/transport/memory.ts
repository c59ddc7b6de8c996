import { type Clock, systemClock } from '../clock.js';
import { PeerError } from '../errors.js';
import { type Body, bodyBytes } from '../wire/body.js';
import {
  type IncomingRequest,
  type ListenOptions,
  newStats,
  type RequestHandler,
  type RequestOptions,
  type Response,
  type Transport,
} from './types.js';

/** One message handed over by the network (see MemoryNetworkOptions.observer). */
export interface Delivery {
  /** A request reaching its server (just before the handler runs), or an answer reaching its client. */
  kind: 'request' | 'response';
  /** Address of the sender of this message (the client for a request, the server for an answer). */
  from: string;
  /** Address it is handed to. */
  to: string;
  path: string;
  bytes: number;
}

export interface MemoryNetworkOptions {
  /**
   * The clock that delays and timeouts run on: give the nodes' FakeClock,
   * and the whole simulation runs on it (no real timer). Required with
   * `delayMs` or `lossRate`; with it, every message (even at zero delay)
   * is handed over by a timer of this clock, one at a time.
   */
  clock?: Clock;
  /**
   * One-way delay of each message (a request, and separately its answer), in
   * ms: uniform in [min, max] drawn from `random`, or a function of the two
   * addresses. Default: none.
   */
  delayMs?: { min: number; max: number } | ((from: string, to: string) => number);
  /**
   * Probability that a message (a request, and separately its answer) is
   * lost. A lost message is a blackholed packet: the request rejects with
   * DSN_ERR_TIMEOUT when its timeout (on `clock`) runs out. A lost answer
   * means the server did handle the request. Default 0.
   */
  lossRate?: number;
  /** The PRNG for delays and losses, in [0, 1): pass a seeded one for reproducible runs. Default Math.random. */
  random?: () => number;
  /**
   * Told of every message the moment it is handed over, synchronously: a
   * request just before its handler runs, an answer just before the
   * client's promise resolves (with a clock, before anything else runs).
   */
  observer?: (d: Delivery) => void;
}

/**
 * An in-memory network for unit tests and simulations: many nodes in one
 * process, no sockets. Links can be cut (`partition`) and hosts taken down;
 * a request to an unreachable host fails at once like a refused connection,
 * or, with `blackhole`, only when its timeout runs out.
 *
 * Requests end as over HTTP (the transport contract, see
 * test/contract/transport.test.ts): a handler that throws answers 500, a
 * request rejects with DSN_ERR_TIMEOUT after its timeoutMs and with
 * DSN_ERR_STOPPED when its signal aborts.
 *
 * By default a message is delivered at once (a microtask later). With
 * options (see MemoryNetworkOptions) each message takes a one-way delay on
 * a given clock and may be lost.
 */
export class MemoryNetwork {
  private readonly hosts = new Map<string, RequestHandler>();
  private readonly cut = new Set<string>();
  /** Which transports sent requests to each host: told when it goes away. */
  private readonly dialled = new Map<string, Set<MemoryTransport>>();
  private nextPort = 20000;
  blackhole = false;
  private readonly clock: Clock | null;
  private readonly delayOf: ((from: string, to: string) => number) | null;
  private readonly lossRate: number;
  private readonly random: () => number;
  observer: ((d: Delivery) => void) | null;

  constructor(options: MemoryNetworkOptions = {}) {
    const { clock, delayMs, lossRate = 0 } = options;
    if (!(lossRate >= 0 && lossRate <= 1)) {
      throw new RangeError(`lossRate must be in [0, 1], got ${lossRate}`);
    }
    if ((delayMs !== undefined || lossRate > 0) && !clock) {
      throw new TypeError('MemoryNetwork: delayMs and lossRate need the clock to run on');
    }
    this.random = options.random ?? Math.random;
    this.clock = clock ?? null;
    this.lossRate = lossRate;
    this.observer = options.observer ?? null;
    if (typeof delayMs === 'function') {
      this.delayOf = delayMs;
    } else if (delayMs) {
      const { min, max } = delayMs;
      if (!(min >= 0 && max >= min)) {
        throw new RangeError(`delayMs needs 0 ≤ min ≤ max, got ${min}–${max}`);
      }
      this.delayOf = () => min + (max - min) * this.random();
    } else {
      this.delayOf = null;
    }
  }

  /** A transport whose requests come from `address`. */
  transport(address: string): MemoryTransport {
    return new MemoryTransport(this, address);
  }

  /** Cuts (or with `heal`, restores) every link between the two groups of addresses. */
  partition(a: string[], b: string[]): void {
    for (const x of a) for (const y of b) this.cut.add(`${x}|${y}`).add(`${y}|${x}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** @internal */
  bind(address: string, port: number, handler: RequestHandler): number {
    const p = port === 0 ? this.nextPort++ : port;
    const key = `${address}:${p}`;
    if (this.hosts.has(key)) throw new PeerError('DSN_ERR_PEER', `${key} is already in use`);
    this.hosts.set(key, handler);
    return p;
  }

  /** @internal */
  unbind(address: string, port: number): void {
    const key = `${address}:${port}`;
    this.hosts.delete(key);
    // Like a process that ends: the kernel closes the connections to it.
    for (const client of this.dialled.get(key) ?? []) {
      queueMicrotask(() => client.hungUp(address, port));
    }
    this.dialled.delete(key);
  }

  /** @internal */
  async deliver(
    from: MemoryTransport,
    call: PendingRequest,
    address: string,
    port: number,
    path: string,
    body: Body,
  ): Promise<Response> {
    if (this.clock) return this.deliverTimed(this.clock, from, call, address, port, path, body);
    const { timeoutMs } = call.options;
    // Without a clock of its own the network has only real time to time out on.
    const expired = () => timeoutError(address, port, path, timeoutMs);
    await Promise.resolve();
    const handler = this.hosts.get(`${address}:${port}`);
    const cut = this.cut.has(`${from.address}|${address}`);
    if (!handler || cut) {
      if (this.blackhole) {
        // An answer that never comes: only the timeout (or an abort) ends it.
        return inTime(new Promise(() => {}), systemClock, timeoutMs, call, expired);
      }
      throw unreachable(address, port, cut);
    }
    // One client transport stands for one connection.
    const key = `${address}:${port}`;
    const clients = this.dialled.get(key) ?? new Set<MemoryTransport>();
    this.dialled.set(key, clients.add(from));
    this.observer?.({ kind: 'request', from: from.address, to: address, path, bytes: body.length });
    const res = await inTime(
      handler(this.incoming(from, path, body)),
      systemClock,
      timeoutMs,
      call,
      expired,
    );
    this.observer?.({
      kind: 'response',
      from: address,
      to: from.address,
      path,
      bytes: res.body.length,
    });
    // Every node here is of this implementation.
    return { ...res, sameImplementation: true };
  }

  /**
   * A request on the clock: a one-way delay there (or lost), the handler, a
   * one-way delay back (or lost). Every wait is a timer of `clock`.
   */
  private async deliverTimed(
    clock: Clock,
    from: MemoryTransport,
    call: PendingRequest,
    address: string,
    port: number,
    path: string,
    body: Body,
  ): Promise<Response> {
    const { timeoutMs } = call.options;
    const t0 = clock.now();
    const expired = () => timeoutError(address, port, path, timeoutMs);
    const timedOut = async (): Promise<never> => {
      await sleep(clock, t0 + timeoutMs - clock.now());
      throw expired();
    };
    if (this.lost()) return timedOut();
    await sleep(clock, this.delay(from.address, address));
    const key = `${address}:${port}`;
    const handler = this.hosts.get(key);
    const cut = this.cut.has(`${from.address}|${address}`);
    if (!handler || cut) {
      if (this.blackhole) return timedOut();
      // The refusal travels back like an answer (and like one, is not waited for past the timeout).
      const back = this.delay(address, from.address);
      if (clock.now() + back - t0 > timeoutMs) return timedOut();
      await sleep(clock, back);
      throw unreachable(address, port, cut);
    }
    const clients = this.dialled.get(key) ?? new Set<MemoryTransport>();
    this.dialled.set(key, clients.add(from));
    this.observer?.({ kind: 'request', from: from.address, to: address, path, bytes: body.length });
    const res = await inTime(
      handler(this.incoming(from, path, body)),
      clock,
      t0 + timeoutMs - clock.now(),
      call,
      expired,
    );
    if (this.lost()) return timedOut();
    const back = this.delay(address, from.address);
    // An answer that would come after the timeout is not waited for.
    if (clock.now() + back - t0 > timeoutMs) return timedOut();
    await sleep(clock, back);
    this.observer?.({
      kind: 'response',
      from: address,
      to: from.address,
      path,
      bytes: res.body.length,
    });
    return { ...res, sameImplementation: true };
  }

  private incoming(from: MemoryTransport, path: string, body: Body): IncomingRequest {
    return {
      path,
      body: Uint8Array.from(bodyBytes(body)),
      remoteAddress: from.address,
      connection: from,
      onHangup: (listener) => from.onClose(listener),
      sameImplementation: true,
    };
  }

  private lost(): boolean {
    return this.lossRate > 0 && this.random() < this.lossRate;
  }

  private delay(from: string, to: string): number {
    return this.delayOf ? Math.max(0, this.delayOf(from, to)) : 0;
  }
}

/** Resolves after `ms` on `clock` (a timer even for 0: messages are handed over one timer at a time). */
function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, Math.max(0, ms)));
}

/**
 * The handler's answer, or DSN_ERR_TIMEOUT once `ms` pass on `clock` without
 * it. Only an answer still to come costs a timer (most handlers answer at
 * once, and no one waits for that of an aborted request); it is cleared when
 * the answer comes, or by `call.cancel` when the request ends first (an abort).
 */
function inTime(
  r: Response | Promise<Response>,
  clock: Clock,
  ms: number,
  call: PendingRequest,
  expired: () => PeerError,
): Response | Promise<Response> {
  if (!(r instanceof Promise) || call.ended) return r;
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(expired()), Math.max(0, ms));
    call.cancel = () => clock.clearTimeout(timer);
    r.finally(call.cancel).then(resolve, reject);
  });
}

/** The HTTP client's errors, word for word (http-client.ts). */
function timeoutError(address: string, port: number, path: string, ms: number): PeerError {
  return new PeerError('DSN_ERR_TIMEOUT', `${address}:${port}${path} timed out after ${ms} ms`);
}

function stopped(): PeerError {
  return new PeerError('DSN_ERR_STOPPED', 'node is stopped');
}

/**
 * As connect() fails: nothing listening is ECONNREFUSED (the failure
 * detector takes that for a process gone, see failureOf), a cut link
 * EHOSTUNREACH (no more than a failure).
 */
function unreachable(address: string, port: number, cut: boolean): PeerError {
  const code = cut ? 'EHOSTUNREACH' : 'ECONNREFUSED';
  const what = `${address}:${port}`;
  const cause = Object.assign(new Error(`connect ${code} ${what}`), {
    code,
    syscall: 'connect',
    address,
    port,
  });
  return new PeerError('DSN_ERR_PEER', `${what} unreachable: ${cause.message}`, undefined, {
    cause,
  });
}

/** What a handler that throws or rejects answers, as over HTTP (http-server.ts). */
function internalError(): Response {
  return { status: 500, body: Buffer.from('internal error') };
}

/** @internal A request in flight at its client. */
export interface PendingRequest {
  options: RequestOptions;
  reject: (err: Error) => void;
  /** Aborted: rejected already, whatever still happens at the server. */
  ended: boolean;
  /** Clears the timer on the handler's answer, while one runs (see inTime). */
  cancel: (() => void) | null;
}

/**
 * A small seeded PRNG (mulberry32) for reproducible simulations: the same
 * seed gives the same sequence in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class MemoryTransport implements Transport {
  readonly stats = newStats();
  private bound: number | null = null;
  private closed = false;
  private readonly hangups: (() => void)[] = [];
  private hangup: ListenOptions['onHangup'];
  private readonly inFlight = new Set<PendingRequest>();
  private readonly watched = new WeakSet<AbortSignal>();

  constructor(
    private readonly network: MemoryNetwork,
    readonly address: string,
  ) {}

  async listen(handler: RequestHandler, options: ListenOptions): Promise<number> {
    this.hangup = options.onHangup;
    const counted: RequestHandler = (req) => {
      this.stats.requestsServed++;
      const limit = options.bodyLimit?.(req.path) ?? options.maxBodyBytes;
      if (req.body.length > limit) return { status: 413, body: Buffer.from('body too large') };
      // A handler's throw or rejection stays on the server, as over HTTP.
      try {
        const r = handler(req);
        return r instanceof Promise ? r.catch(internalError) : r;
      } catch {
        return internalError();
      }
    };
    this.bound = this.network.bind(this.address, options.port, counted);
    return this.bound;
  }

  request(
    address: string,
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
    return new Promise((resolve, reject) => {
      const call: PendingRequest = { options, reject, ended: false, cancel: null };
      this.inFlight.add(call);
      this.network.deliver(this, call, address, port, path, body).then(
        (res) => {
          if (!this.inFlight.delete(call)) return;
          this.stats.bytesReceived += res.body.length;
          resolve(res);
        },
        (err: Error) => {
          if (this.inFlight.delete(call)) reject(err);
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.bound !== null) this.network.unbind(this.address, this.bound);
    // Like sockets closed by a process that ends: the servers it talked to notice.
    for (const listener of this.hangups.splice(0)) queueMicrotask(listener);
  }

  /** @internal A server this transport sent requests to went away. */
  hungUp(address: string, port: number): void {
    if (!this.closed) this.hangup?.(address, port);
  }

  /** @internal Called once when this transport (its "connection") closes. */
  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.hangups.push(listener);
  }

  /** Rejects the requests in flight on `signal` at once; what is on its way there still arrives. */
  private abort(signal: AbortSignal): void {
    for (const call of this.inFlight) {
      if (call.options.signal !== signal) continue;
      this.inFlight.delete(call);
      call.ended = true;
      call.cancel?.();
      call.reject(stopped());
    }
  }
}
